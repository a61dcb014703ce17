// What one background sync run does and what it decides, without any Android API: the part of the
// WorkManager worker that runs (and is tested) on the desktop JVM.
//
// Owns: the call to the core's one entry point (`Citizen.syncNow` with a time budget) and the
// decision drawn from its `SyncReport` (retry now-ish, or done and when to run next). Does not own
// sending, retries of single dossiers or back-off between them: the core does, and `nextDueAt`
// already reflects it. Does not own scheduling: CitizenBackgroundSync turns a decision into
// WorkManager requests.
package org.citizen.sdk.shell

import org.citizen.sdk.CitizenException
import org.citizen.sdk.CitizenInterface
import org.citizen.sdk.SyncReport

/** What a background run concluded. */
sealed class SyncDecision {
    /**
     * The work is not finished: the time budget ran out, or the call failed ([error] is set then).
     * The worker answers `Result.retry()`, and WorkManager runs it again after its back-off.
     */
    data class Retry(val error: CitizenException? = null) : SyncDecision()

    /**
     * Everything due was attempted. [nextRunInSeconds] is when queued work falls due next (for a
     * one-time run then), or null when nothing waits for a time (the periodic run covers the rest:
     * trust list, credential status, exposure notices, catalogue).
     */
    data class Done(val nextRunInSeconds: Long?) : SyncDecision()
}

/** The knobs of background sync. The defaults suit WorkManager's limits. */
data class BackgroundSyncSettings(
    /**
     * What one run may spend in `syncNow`. WorkManager stops a worker after about 10 minutes;
     * 8 leaves room for opening the store and scheduling the next run.
     */
    val timeBudgetMs: Long = 8 * 60 * 1000L,
    /** The safety-net run's period (WorkManager's minimum is 15 minutes). */
    val periodicIntervalMinutes: Long = 6 * 60L,
    /**
     * The shortest delay before a follow-up run, even when work is due already: a floor against a
     * tight loop when the portal keeps failing (the core's own back-off normally sets a later time).
     */
    val minimumDelaySeconds: Long = 30,
) {
    init {
        require(timeBudgetMs in 1..UInt.MAX_VALUE.toLong()) { "timeBudgetMs out of range: $timeBudgetMs" }
        require(periodicIntervalMinutes >= 15) { "WorkManager's shortest period is 15 minutes" }
        require(minimumDelaySeconds >= 0) { "minimumDelaySeconds must not be negative" }
    }
}

object BackgroundSyncPlan {
    /**
     * The decision for [report], at [nowUnixSeconds]:
     * - not `completed` (the budget ran out with work left): [SyncDecision.Retry];
     * - queued work with a due time: [SyncDecision.Done] with the seconds until then, at least
     *   [minimumDelaySeconds];
     * - nothing queued, or nothing with a due time (e.g. parked entries waiting for the citizen):
     *   [SyncDecision.Done] with no follow-up run.
     */
    @JvmStatic
    fun decide(report: SyncReport, nowUnixSeconds: Long, minimumDelaySeconds: Long): SyncDecision {
        if (!report.completed) return SyncDecision.Retry()
        val dueAt = report.nextDueAt
        if (report.queuedWork == 0uL || dueAt == null) return SyncDecision.Done(null)
        return SyncDecision.Done(maxOf(dueAt - nowUnixSeconds, minimumDelaySeconds))
    }

    /**
     * One background run on [citizen]: `syncNow` within the budget, then [decide]. A
     * `CitizenException` becomes [SyncDecision.Retry] with the error; cancellation (WorkManager
     * stopped the worker) propagates.
     */
    @JvmStatic
    @JvmOverloads
    suspend fun run(
        citizen: CitizenInterface,
        settings: BackgroundSyncSettings = BackgroundSyncSettings(),
        nowUnixSeconds: () -> Long = { System.currentTimeMillis() / 1000 },
    ): SyncDecision {
        val report = try {
            citizen.syncNow(settings.timeBudgetMs.toUInt())
        } catch (error: CitizenException) {
            return SyncDecision.Retry(error)
        }
        return decide(report, nowUnixSeconds(), settings.minimumDelaySeconds)
    }
}
