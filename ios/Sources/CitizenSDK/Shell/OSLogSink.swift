// Sends the SDK's log lines to the unified logging system (Console.app, `log stream`).
//
// Owns: the level mapping, subsystem and category. Does not own what is logged: the Rust core
// writes the lines and guarantees they carry no personal data. That is why they are logged with
// `privacy: .public`: os_log otherwise redacts every dynamic string as <private> outside a
// debugger, which would make the SDK's logs useless in support cases.

import os

public final class OSLogSink: LogSink, @unchecked Sendable {
    public static let defaultSubsystem = "org.citizen.sdk"

    private let logger: Logger

    public init(subsystem: String = OSLogSink.defaultSubsystem, category: String = "sdk") {
        logger = Logger(subsystem: subsystem, category: category)
    }

    public func log(record: LogRecord) {
        let line = "\(record.target): \(record.message)"
        switch record.level {
        case .error:
            logger.error("\(line, privacy: .public)")
        case .warn:
            logger.warning("\(line, privacy: .public)")
        case .info:
            logger.info("\(line, privacy: .public)")
        case .debug:
            logger.debug("\(line, privacy: .public)")
        case .trace:
            logger.trace("\(line, privacy: .public)")
        }
    }
}
