// (d) The SDK's log lines reach a Kotlin LogSink, filtered by level.
//
// Logging is process-wide (one sink for the whole SDK), so each test installs its own sink and
// looks for specific lines rather than counting everything.
package org.citizen.sdk

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class LoggingTest {
    @get:Rule
    val temp = TemporaryFolder()

    private fun openAndClose() {
        val config = CitizenConfig(dataDir = temp.newFolder().path, portalBaseUrl = OFFLINE_PORTAL)
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

        assertTrue("nothing at info or below: ${sink.all()}", sink.all().none { it.level == LogLevel.INFO || it.level == LogLevel.DEBUG })
        assertTrue(sink.all().none { it.message.contains("citizen SDK opened") })
    }
}
