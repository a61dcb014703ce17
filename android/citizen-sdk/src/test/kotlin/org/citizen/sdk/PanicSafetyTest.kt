// (f) A Rust panic does not crash the JVM.
//
// The honest way to cause one from Kotlin: an EventListener that throws. `onEvent` returns nothing,
// so uniffi has no error to hand back and panics on the Rust side ("Callback interface failure");
// the core's event bus catches that panic (the FFI library is built with panic = "unwind"), logs
// it, and carries on. The panic message on stderr during this test is expected.
package org.citizen.sdk

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class PanicSafetyTest {
    @get:Rule
    val temp = TemporaryFolder()

    private class ThrowingListener : EventListener {
        override fun onEvent(event: Event) {
            throw IllegalStateException("listener bug")
        }
    }

    @Test
    fun aThrowingListenerPanicsInRustWithoutHarmingTheCallOrOtherListeners(): Unit = runBlocking {
        val logs = LogRecorder()
        initLogging(LogLevel.WARN, logs)
        val config = offlineConfig(temp.newFolder("data"))
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { citizen ->
            val after = EventRecorder()
            citizen.subscribe(ThrowingListener()).use {
                citizen.subscribe(after).use {
                    citizen.rotateStoreKey()
                    assertEquals(listOf<Event>(Event.StoreKeyRotated), after.drain())
                }
            }
            assertTrue(
                "the panic was caught and logged: ${logs.all()}",
                logs.all().any { it.level == LogLevel.ERROR && it.message.contains("panicked") },
            )
            assertEquals(WalletState.NotActivated, citizen.status().walletState)
        }
    }
}
