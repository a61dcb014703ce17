// Background sync on Android: a WorkManager worker that calls the core's one entry point
// (`Citizen.syncNow` with a time budget) and schedules itself for when queued work falls due, plus
// a periodic safety net. Both need a connected network.
//
// Owns: the work requests (names, constraints, back-off), the worker, and where the worker gets
// the app's open `Citizen` (the provider installed in `Application.onCreate`). Does not own what a
// sync does nor when a single dossier is retried: the core does (BackgroundSyncPlan holds the part
// that runs without Android). Wiring for the app: docs/background-sync.md.
package org.citizen.sdk.shell

import android.content.Context
import android.util.Log
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequest
import androidx.work.PeriodicWorkRequest
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import java.util.concurrent.TimeUnit
import org.citizen.sdk.CitizenException
import org.citizen.sdk.CitizenInterface

/**
 * Gives the background worker the app's open `Citizen`, opening it if needed, or null when there
 * is none to sync (nobody signed up yet, or the store cannot be opened without the citizen). Only
 * one `Citizen` may be open per data directory, so this must hand out the app's single instance,
 * never open a second one. The worker does not close it. A `CitizenException` thrown here (e.g. the
 * Keystore is not usable yet after a reboot) counts as a failed attempt, retried like a failed sync.
 */
typealias CitizenProvider = suspend () -> CitizenInterface?

object CitizenBackgroundSync {
    /** Unique name of the periodic safety-net run. */
    const val PERIODIC_WORK_NAME = "org.citizen.sdk.sync.periodic"

    /** Unique name of the one-time run scheduled for when queued work falls due. */
    const val NEXT_WORK_NAME = "org.citizen.sdk.sync.next"

    /** Tag of the one-time runs, so a run knows it is one of them. */
    const val NEXT_WORK_TAG = "org.citizen.sdk.sync.next"

    /** A run that failed this many times gives up until the next scheduled run. */
    const val MAX_ATTEMPTS = 5

    private const val BACKOFF_SECONDS = 60L

    @Volatile
    private var provider: CitizenProvider? = null

    @Volatile
    var settings: BackgroundSyncSettings = BackgroundSyncSettings()
        private set

    /**
     * Registers where the worker gets the app's `Citizen`. Call it in `Application.onCreate`:
     * WorkManager creates the worker itself, in a process that may have been started for it alone,
     * and `Application.onCreate` is the one place that runs first in every process.
     */
    @JvmStatic
    @JvmOverloads
    fun install(settings: BackgroundSyncSettings = BackgroundSyncSettings(), provider: CitizenProvider) {
        this.settings = settings
        this.provider = provider
    }

    /**
     * Enqueues the periodic safety net (kept if already enqueued, with its settings updated) and
     * a one-time run as soon as the network allows (kept if one is already pending). Call it at
     * every app start, after [install]; it is cheap and idempotent.
     */
    @JvmStatic
    fun schedule(context: Context) {
        val workManager = WorkManager.getInstance(context)
        val periodic = PeriodicWorkRequest.Builder(
            CitizenSyncWorker::class.java,
            settings.periodicIntervalMinutes,
            TimeUnit.MINUTES,
        )
            .setConstraints(connected())
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, BACKOFF_SECONDS, TimeUnit.SECONDS)
            .build()
        workManager.enqueueUniquePeriodicWork(PERIODIC_WORK_NAME, ExistingPeriodicWorkPolicy.UPDATE, periodic)
        workManager.enqueueUniqueWork(NEXT_WORK_NAME, ExistingWorkPolicy.KEEP, nextRequest(0))
    }

    /**
     * Asks for a run in [delaySeconds] (once the network allows), replacing any pending one-time
     * run: e.g. after the app queued a dossier while offline, or with the delay from a
     * foreground `syncNow` report (BackgroundSyncPlan.decide).
     */
    @JvmStatic
    @JvmOverloads
    fun requestSync(context: Context, delaySeconds: Long = 0) {
        WorkManager.getInstance(context)
            .enqueueUniqueWork(NEXT_WORK_NAME, ExistingWorkPolicy.REPLACE, nextRequest(delaySeconds))
    }

    /** Cancels both runs (e.g. when the citizen signs out and the store is wiped). */
    @JvmStatic
    fun cancel(context: Context) {
        val workManager = WorkManager.getInstance(context)
        workManager.cancelUniqueWork(PERIODIC_WORK_NAME)
        workManager.cancelUniqueWork(NEXT_WORK_NAME)
    }

    internal fun provider(): CitizenProvider? = provider

    /**
     * Schedules the follow-up one-time run from inside a running worker. REPLACE would cancel
     * the calling worker itself when it is the one-time run (a running work is still "pending" to
     * WorkManager), so that run appends instead: the follow-up waits for it to succeed, and its
     * delay counts from then. The periodic run replaces whatever one-time run is pending.
     */
    internal fun scheduleFollowUp(context: Context, delaySeconds: Long, calledFromNextRun: Boolean) {
        val policy = if (calledFromNextRun) ExistingWorkPolicy.APPEND_OR_REPLACE else ExistingWorkPolicy.REPLACE
        WorkManager.getInstance(context).enqueueUniqueWork(NEXT_WORK_NAME, policy, nextRequest(delaySeconds))
    }

    private fun nextRequest(delaySeconds: Long): OneTimeWorkRequest =
        OneTimeWorkRequest.Builder(CitizenSyncWorker::class.java)
            .setInitialDelay(maxOf(delaySeconds, 0), TimeUnit.SECONDS)
            .setConstraints(connected())
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, BACKOFF_SECONDS, TimeUnit.SECONDS)
            .addTag(NEXT_WORK_TAG)
            .build()

    private fun connected(): Constraints =
        Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()
}

/**
 * The background run: gets the app's `Citizen` from the provider installed with
 * [CitizenBackgroundSync.install], calls `syncNow` within the configured budget, answers
 * `success` when everything due was attempted (scheduling a one-time run for when queued work
 * falls due) and `retry` otherwise (WorkManager's back-off, at most
 * [CitizenBackgroundSync.MAX_ATTEMPTS] tries). WorkManager creates it by reflection through this
 * constructor; R8 keeps it (consumer-rules.pro keeps `org.citizen.sdk.**`).
 */
class CitizenSyncWorker(appContext: Context, params: WorkerParameters) : CoroutineWorker(appContext, params) {
    override suspend fun doWork(): Result {
        val provider = CitizenBackgroundSync.provider()
        if (provider == null) {
            Log.w(TAG, "no CitizenProvider: call CitizenBackgroundSync.install in Application.onCreate")
            return Result.failure()
        }
        val citizen = try {
            provider() ?: return Result.success()
        } catch (error: CitizenException) {
            Log.w(TAG, "the Citizen could not be opened for background sync: $error")
            return retryOrGiveUp()
        }
        return when (val decision = BackgroundSyncPlan.run(citizen, CitizenBackgroundSync.settings)) {
            is SyncDecision.Retry -> {
                if (decision.error != null) Log.w(TAG, "background sync failed: ${decision.error}")
                retryOrGiveUp()
            }
            is SyncDecision.Done -> {
                decision.nextRunInSeconds?.let { delay ->
                    CitizenBackgroundSync.scheduleFollowUp(
                        applicationContext,
                        delay,
                        calledFromNextRun = CitizenBackgroundSync.NEXT_WORK_TAG in tags,
                    )
                }
                Result.success()
            }
        }
    }

    private fun retryOrGiveUp(): Result =
        if (runAttemptCount + 1 >= CitizenBackgroundSync.MAX_ATTEMPTS) Result.failure() else Result.retry()

    private companion object {
        const val TAG = "CitizenSDK"
    }
}
