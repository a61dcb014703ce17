// Background sync as far as it runs without Android: the decision drawn from a SyncReport (retry,
// or done and when to run next), the worker's core path (BackgroundSyncPlan.run) on a real Citizen
// against the sandbox and with a failing syncNow, and which network changes wake the sender.
// The WorkManager and ConnectivityManager calls themselves run only on a device.
package org.citizen.sdk

import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import kotlinx.coroutines.runBlocking
import org.citizen.sdk.shell.BackgroundSyncPlan
import org.citizen.sdk.shell.BackgroundSyncSettings
import org.citizen.sdk.shell.NetworkWakeFilter
import org.citizen.sdk.shell.SyncDecision
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class BackgroundSyncTest {
    @get:Rule
    val temp = TemporaryFolder()

    private val now = 1_800_000_000L

    private fun decide(completed: Boolean, queued: ULong, dueAt: Long?) =
        BackgroundSyncPlan.decide(SyncReport(completed, queued, dueAt), now, 30)

    @Test
    fun aRunCutShortIsRetried() {
        assertEquals(SyncDecision.Retry(), decide(completed = false, queued = 3u, dueAt = now + 600))
        assertEquals(SyncDecision.Retry(), decide(completed = false, queued = 0u, dueAt = null))
    }

    @Test
    fun nothingQueuedNeedsNoFollowUpRun() {
        assertEquals(SyncDecision.Done(null), decide(completed = true, queued = 0u, dueAt = null))
        // Queued entries without a due time (parked, waiting for the citizen) wait for the periodic run.
        assertEquals(SyncDecision.Done(null), decide(completed = true, queued = 2u, dueAt = null))
    }

    @Test
    fun queuedWorkRunsAgainWhenDueButNeverSoonerThanTheFloor() {
        assertEquals(SyncDecision.Done(600), decide(completed = true, queued = 1u, dueAt = now + 600))
        assertEquals(SyncDecision.Done(30), decide(completed = true, queued = 1u, dueAt = now + 5))
        assertEquals("due already", SyncDecision.Done(30), decide(completed = true, queued = 1u, dueAt = now - 100))
    }

    @Test
    fun settingsRefuseWhatWorkManagerOrSyncNowCannotTake() {
        assertEquals(8 * 60 * 1000L, BackgroundSyncSettings().timeBudgetMs)
        expectThrows<IllegalArgumentException> { BackgroundSyncSettings(timeBudgetMs = 0) }
        expectThrows<IllegalArgumentException> { BackgroundSyncSettings(timeBudgetMs = 1L shl 32) }
        expectThrows<IllegalArgumentException> { BackgroundSyncSettings(periodicIntervalMinutes = 14) }
        expectThrows<IllegalArgumentException> { BackgroundSyncSettings(minimumDelaySeconds = -1) }
    }

    @Test
    fun theWorkersPathSyncsARealCitizenAndSucceeds(): Unit = runBlocking {
        val config = Sandbox.get().config(temp.newFolder("data"))
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { citizen ->
            val recording = RecordingCitizen(citizen)
            val decision = BackgroundSyncPlan.run(recording, BackgroundSyncSettings(timeBudgetMs = 60_000))
            assertEquals(1, recording.syncs.get())
            assertEquals(60_000L, recording.lastBudgetMs.get())
            // A fresh store has nothing queued: success, and no one-time run to schedule.
            assertEquals(SyncDecision.Done(null), decision)
            assertEquals(0uL, citizen.syncNow(1_000u).queuedWork)
        }
    }

    @Test
    fun aFailingSyncIsRetriedWithItsError(): Unit = runBlocking {
        Citizen.open(offlineConfig(temp.newFolder("data")), PlatformServices(fileSealer(temp.root.resolve("k")))).use {
            val failing = object : CitizenInterface by it {
                override suspend fun syncNow(timeBudgetMs: UInt): SyncReport =
                    throw CitizenException.TemporarilyUnavailable("the store is busy")
            }
            val decision = BackgroundSyncPlan.run(failing)
            assertTrue("$decision", decision is SyncDecision.Retry)
            assertTrue((decision as SyncDecision.Retry).error is CitizenException.TemporarilyUnavailable)
        }
    }

    @Test
    fun theWakeSenderCallReachesTheCore(): Unit = runBlocking {
        // What ConnectivityWaker's Citizen constructor calls on each wake: a plain call, no suspend.
        Citizen.open(offlineConfig(temp.newFolder("data")), PlatformServices(fileSealer(temp.root.resolve("k")))).use {
            it.dossiers().use { dossiers -> dossiers.wakeSender() }
        }
    }

    @Test
    fun aNetworkWakesTheSenderWhenAvailableAndOnceMoreWhenValidated() {
        val filter = NetworkWakeFilter()
        assertTrue("available", filter.onAvailable("wifi"))
        assertFalse("not validated yet", filter.onCapabilitiesChanged("wifi", false))
        assertTrue("validated", filter.onCapabilitiesChanged("wifi", true))
        assertFalse("still validated: signal or metering changed", filter.onCapabilitiesChanged("wifi", true))
        filter.onLost("wifi")
        assertTrue("back again", filter.onAvailable("wifi"))
        assertTrue("validated again", filter.onCapabilitiesChanged("wifi", true))
        assertTrue("another network", filter.onAvailable("cell"))
        assertTrue(filter.onCapabilitiesChanged("cell", true))
    }

    /** A real Citizen whose syncNow calls are counted. */
    private class RecordingCitizen(private val inner: Citizen) : CitizenInterface by inner {
        val syncs = AtomicInteger()
        val lastBudgetMs = AtomicLong(-1)

        override suspend fun syncNow(timeBudgetMs: UInt): SyncReport {
            syncs.incrementAndGet()
            lastBudgetMs.set(timeBudgetMs.toLong())
            return inner.syncNow(timeBudgetMs)
        }
    }
}
