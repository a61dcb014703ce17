// (c) Events from Rust reach a Kotlin EventListener, and stop after cancel().
//
// Delivery is synchronous on the thread that caused the event, so by the time a call like
// rotateStoreKey() returns its events have been delivered: "nothing arrived" is checked right
// after the call, without sleeping.
package org.citizen.sdk

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class EventsTest {
    @get:Rule
    val temp = TemporaryFolder()

    @Test
    fun rotatingTheStoreKeyEmitsStoreKeyRotatedUntilCancelled(): Unit = runBlocking {
        val config = offlineConfig(temp.newFolder("data"))
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { citizen ->
            val cancelled = EventRecorder()
            val kept = EventRecorder()
            val handle = citizen.subscribe(cancelled)
            citizen.subscribe(kept).use {
                citizen.rotateStoreKey()
                assertEquals(listOf<Event>(Event.StoreKeyRotated), cancelled.drain())
                assertEquals(listOf<Event>(Event.StoreKeyRotated), kept.drain())

                handle.cancel()
                citizen.rotateStoreKey()
                assertEquals("no events after cancel()", emptyList<Event>(), cancelled.drain())
                // The event was still emitted: the other listener proves it.
                assertEquals(listOf<Event>(Event.StoreKeyRotated), kept.drain())
            }
            // The store still opens under the rotated key.
            assertEquals(0uL, citizen.status().queuedWork)
        }
    }

    @Test
    fun pingingTheSandboxEmitsReachabilityAndStatusAndRecordsTheContact(): Unit = runBlocking {
        val sandbox = Sandbox.get()
        val dataDir = temp.newFolder("data")
        val keyFile = temp.root.resolve("sealer.key")
        val events = EventRecorder()
        val contact = Citizen.open(sandbox.config(dataDir), PlatformServices(fileSealer(keyFile))).use { citizen ->
            citizen.subscribe(events).use {
                val contact = citizen.pingPortal()
                assertEquals(1u, contact.apiVersion)
                assertTrue("portal name", contact.portalName.isNotBlank())

                val status = citizen.status()
                assertEquals(true, status.portalReachable)
                assertEquals(contact.contactedAt, status.lastPortalContactAt)
                assertEquals(
                    listOf(Event.PortalReachabilityChanged(reachable = true), Event.StatusChanged(status)),
                    events.drain(),
                )
                assertEquals(contact, citizen.lastPortalContact())
                contact
            }
        }
        // The contact was stored in the encrypted store, not just kept in memory.
        Citizen.open(sandbox.config(dataDir), PlatformServices(fileSealer(keyFile))).use { citizen ->
            assertEquals(contact, citizen.lastPortalContact())
        }
    }
}
