// (d) The SDK's log lines reach a Kotlin LogSink, filtered by level; a sink that throws harms
// nothing.
//
// Logging is process-wide (one sink for the whole SDK), so each test installs its own sink and
// looks for specific lines rather than counting everything.
package org.citizen.sdk

import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class LoggingTest {
    @get:Rule
    val temp = TemporaryFolder()

    /** Opens a fresh offline store (allowUnpinned: the SDK warns about it), reads status, closes. */
    private fun openAndClose() = runBlocking {
        val config = offlineConfig(temp.newFolder())
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { it.status() }
    }

    @Test
    fun theOpenedLineReachesTheSinkAtInfo() {
        val sink = LogRecorder()
        initLogging(LogLevel.DEBUG, sink)
        openAndClose()

        val opened = sink.all().filter { it.message.contains("citizen SDK opened") }
        assertEquals("one 'opened' line per open: ${sink.all()}", 1, opened.size)
        assertEquals(LogLevel.INFO, opened[0].level)
        assertTrue(opened[0].target, opened[0].target.startsWith("citizen_core"))
    }

    @Test
    fun linesBelowTheLevelAreNotDelivered() {
        val sink = LogRecorder()
        initLogging(LogLevel.WARN, sink)
        openAndClose()

        // Positive control: the sink is live at WARN. allowUnpinned is a development setup the
        // core warns about at every open; without this line the checks below would prove nothing.
        assertTrue(
            "the unpinned-development warning arrives: ${sink.all()}",
            sink.all().any { it.level == LogLevel.WARN && it.message.contains(UNPINNED_WARNING, ignoreCase = true) },
        )
        assertTrue("nothing at info or below: ${sink.all()}", sink.all().none { it.level == LogLevel.INFO || it.level == LogLevel.DEBUG })
        assertTrue(sink.all().none { it.message.contains("citizen SDK opened") })
    }

    @Test
    fun aThrowingSinkHarmsNeitherTheSdkNorTheNextSink() {
        val throwing = ThrowingSink()
        initLogging(LogLevel.DEBUG, throwing)
        runBlocking {
            val config = offlineConfig(temp.newFolder("data"))
            Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { citizen ->
                assertEquals(WalletState.NotActivated, citizen.status().walletState)
                citizen.rotateStoreKey()
                assertEquals(0uL, citizen.status().queuedWork)
            }
        }
        assertTrue("the throwing sink was called at all", throwing.calls.get() > 0)

        // A well-behaved sink installed afterwards still gets lines: logging was not switched off.
        val sink = LogRecorder()
        initLogging(LogLevel.INFO, sink)
        openAndClose()
        assertTrue("lines after the throwing sink: ${sink.all()}", sink.all().any { it.message.contains("citizen SDK opened") })
    }

    private class ThrowingSink : LogSink {
        val calls = AtomicInteger()

        override fun log(record: LogRecord) {
            calls.incrementAndGet()
            throw IllegalStateException("sink bug")
        }
    }

    private companion object {
        /** Named in the core's warning when a config sets allowUnpinned. */
        const val UNPINNED_WARNING = "allow_unpinned"
    }
}
