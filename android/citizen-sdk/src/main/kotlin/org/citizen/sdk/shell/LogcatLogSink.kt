// Sends the SDK's log lines to logcat.
//
// Owns: the level mapping and the tag. Does not own what is logged: the Rust core writes the
// lines and guarantees they carry no personal data, so they are passed through unchanged.
package org.citizen.sdk.shell

import android.util.Log
import org.citizen.sdk.LogLevel
import org.citizen.sdk.LogRecord
import org.citizen.sdk.LogSink

/** Install with `initLogging(LogLevel.INFO, LogcatLogSink())`, or [CitizenSdk.enableLogcat]. */
class LogcatLogSink @JvmOverloads constructor(private val tag: String = DEFAULT_TAG) : LogSink {
    override fun log(record: LogRecord) {
        val line = "${record.target}: ${record.message}"
        when (record.level) {
            LogLevel.ERROR -> Log.e(tag, line)
            LogLevel.WARN -> Log.w(tag, line)
            LogLevel.INFO -> Log.i(tag, line)
            LogLevel.DEBUG -> Log.d(tag, line)
            LogLevel.TRACE -> Log.v(tag, line)
        }
    }

    companion object {
        /** At most 23 characters: longer tags are rejected by Log on API 25 and below. */
        const val DEFAULT_TAG = "CitizenSDK"
    }
}
