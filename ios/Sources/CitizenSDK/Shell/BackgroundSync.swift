// Background sync on iOS: a BGTaskScheduler processing task that calls the core's one entry point
// (`syncNow(timeBudgetMs:)`) and schedules its next run for when queued work falls due, plus
// `ConnectivityWaker`, which wakes the dossier sender when the network comes back while the app
// runs.
//
// Owns: the task's registration, its request (identifier, network requirement, earliest begin
// date), completing it exactly once (also on expiry), and the decision drawn from a `SyncReport`.
// Does not own what a sync does nor when a single dossier is retried: the core does, and
// `nextDueAt` already reflects it. The app must list the identifier under
// `BGTaskSchedulerPermittedIdentifiers` and add `processing` to `UIBackgroundModes` in its
// Info.plist (docs/background-sync.md).

import BackgroundTasks
import Foundation
import Network

/// What a background run concluded.
public enum BackgroundSyncDecision: Equatable {
    /// The work is not finished: the time budget ran out, or `syncNow` failed.
    case retry
    /// Everything due was attempted. `nextRunAfter` is when queued work falls due next, or nil
    /// when nothing waits for a time (the safety-net run covers the rest).
    case done(nextRunAfter: TimeInterval?)
}

/// The knobs of background sync.
public struct BackgroundSyncSettings {
    /// What one run may spend in `syncNow`. The system may end a processing task sooner; then the
    /// task's expiration handler completes it and schedules the next run.
    public var timeBudget: TimeInterval
    /// The shortest delay before a follow-up run, even when work is due already: a floor against
    /// a tight loop when the portal keeps failing.
    public var minimumDelay: TimeInterval
    /// The longest wait between runs. iOS has no periodic tasks: each run schedules the next, at
    /// the latest this long after.
    public var safetyNetInterval: TimeInterval

    public init(
        timeBudget: TimeInterval = 5 * 60,
        minimumDelay: TimeInterval = 60,
        safetyNetInterval: TimeInterval = 6 * 60 * 60
    ) {
        precondition(timeBudget >= 0.001 && timeBudget * 1000 <= Double(UInt32.max), "timeBudget out of range")
        precondition(minimumDelay >= 0, "minimumDelay must not be negative")
        precondition(safetyNetInterval >= minimumDelay, "safetyNetInterval must not be below minimumDelay")
        self.timeBudget = timeBudget
        self.minimumDelay = minimumDelay
        self.safetyNetInterval = safetyNetInterval
    }
}

/// The part of a background run that needs no BackgroundTasks API.
public enum BackgroundSyncPlan {
    /// The decision for `report` at `now`: not `completed` is `.retry`; queued work with a due time
    /// is `.done` with the time until then, at least `minimumDelay`; nothing queued, or nothing
    /// with a due time (e.g. parked entries waiting for the citizen), is `.done(nextRunAfter: nil)`.
    public static func decide(_ report: SyncReport, now: Date, minimumDelay: TimeInterval) -> BackgroundSyncDecision {
        if !report.completed {
            return .retry
        }
        guard report.queuedWork > 0, let dueAt = report.nextDueAt else {
            return .done(nextRunAfter: nil)
        }
        let untilDue = TimeInterval(dueAt) - now.timeIntervalSince1970
        return .done(nextRunAfter: max(untilDue, minimumDelay))
    }

    /// When the next run may begin after `decision`: soon for a retry, when due for queued work
    /// (at most the safety-net interval away), else after the safety-net interval.
    public static func nextBeginDate(
        after decision: BackgroundSyncDecision,
        now: Date,
        settings: BackgroundSyncSettings
    ) -> Date {
        switch decision {
        case .retry:
            return now.addingTimeInterval(settings.minimumDelay)
        case .done(let nextRunAfter):
            let delay = nextRunAfter.map { min(max($0, settings.minimumDelay), settings.safetyNetInterval) }
            return now.addingTimeInterval(delay ?? settings.safetyNetInterval)
        }
    }

    /// One run on `citizen`: `syncNow` within the budget, then `decide`. An error is `.retry`.
    public static func run(
        _ citizen: CitizenProtocol,
        settings: BackgroundSyncSettings,
        now: @escaping () -> Date = { Date() }
    ) async -> BackgroundSyncDecision {
        do {
            let report = try await citizen.syncNow(timeBudgetMs: UInt32(settings.timeBudget * 1000))
            return decide(report, now: now(), minimumDelay: settings.minimumDelay)
        } catch {
            return .retry
        }
    }
}

/// The background sync task. Create one, call `register()` before the app finishes launching
/// (in `application(_:didFinishLaunchingWithOptions:)` or the `App` initialiser), then
/// `schedule()`. `citizen` hands out the app's open `Citizen`, opening it if needed, or nil when
/// there is none to sync; only one `Citizen` may hold a data directory, so it must return the
/// app's single instance. The task does not close it. An error it throws (e.g. the keychain is
/// not readable yet after a reboot) counts as a failed run, retried `minimumDelay` later.
public final class CitizenBackgroundSync {
    /// The task identifier; the app's Info.plist must list it under
    /// `BGTaskSchedulerPermittedIdentifiers`.
    public let taskIdentifier: String
    public let settings: BackgroundSyncSettings
    private let citizen: () async throws -> CitizenProtocol?

    public init(
        taskIdentifier: String,
        settings: BackgroundSyncSettings = BackgroundSyncSettings(),
        citizen: @escaping () async throws -> CitizenProtocol?
    ) {
        self.taskIdentifier = taskIdentifier
        self.settings = settings
        self.citizen = citizen
    }

    /// Registers the launch handler. Returns false when the identifier is missing from
    /// `BGTaskSchedulerPermittedIdentifiers`; registering after launch finished is a programming
    /// error that BGTaskScheduler reports by raising an exception.
    @discardableResult
    public func register() -> Bool {
        return BGTaskScheduler.shared.register(forTaskWithIdentifier: taskIdentifier, using: nil) { task in
            guard let processing = task as? BGProcessingTask else {
                task.setTaskCompleted(success: false)
                return
            }
            self.handle(processing)
        }
    }

    /// Asks for a run no earlier than `earliestBeginDate` (nil: as soon as the system likes), with
    /// network. Replaces a pending request for the same identifier. Throws BGTaskScheduler's
    /// errors (e.g. `.unavailable` on the simulator or with Background App Refresh off).
    public func schedule(earliestBeginDate: Date? = nil) throws {
        let request = BGProcessingTaskRequest(identifier: taskIdentifier)
        request.requiresNetworkConnectivity = true
        request.requiresExternalPower = false
        request.earliestBeginDate = earliestBeginDate
        try BGTaskScheduler.shared.submit(request)
    }

    private func handle(_ task: BGProcessingTask) {
        // First a safety-net request, in case this run is killed before it schedules the real one.
        try? schedule(earliestBeginDate: Date().addingTimeInterval(settings.safetyNetInterval))
        let completion = TaskCompletion(task)
        let work = Task {
            let decision = await self.runOnce()
            if completion.isFinished {
                return
            }
            let next = BackgroundSyncPlan.nextBeginDate(after: decision, now: Date(), settings: self.settings)
            try? self.schedule(earliestBeginDate: next)
            completion.finish(success: decision != .retry)
        }
        task.expirationHandler = {
            // The system wants the time back. The Rust side stops at its own budget or when the
            // app is suspended, and resumes from its outbox on the next run.
            work.cancel()
            try? self.schedule(earliestBeginDate: Date().addingTimeInterval(self.settings.minimumDelay))
            completion.finish(success: false)
        }
    }
}

extension CitizenBackgroundSync {
    /// One run: the app's `Citizen` from the provider, then `BackgroundSyncPlan.run`.
    func runOnce() async -> BackgroundSyncDecision {
        let opened: CitizenProtocol?
        do {
            opened = try await self.citizen()
        } catch {
            return .retry
        }
        guard let found = opened else {
            return .done(nextRunAfter: nil)
        }
        return await BackgroundSyncPlan.run(found, settings: settings)
    }
}

/// Calls `setTaskCompleted(success:)` once: the run and the expiration handler may race.
private final class TaskCompletion {
    private let task: BGTask
    private let lock = NSLock()
    private var finished = false

    init(_ task: BGTask) {
        self.task = task
    }

    var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return finished
    }

    func finish(success: Bool) {
        lock.lock()
        let first = !finished
        finished = true
        lock.unlock()
        if first {
            task.setTaskCompleted(success: success)
        }
    }
}

/// Which path updates count as "the network is back": the path becoming satisfied (also the
/// first update, if it is satisfied already). Staying satisfied, or becoming unsatisfied, does not.
public struct PathWakeFilter {
    private var satisfied = false

    public init() {}

    /// Returns true when this update should wake the sender.
    public mutating func update(isSatisfied: Bool) -> Bool {
        let wake = isSatisfied && !satisfied
        satisfied = isSatisfied
        return wake
    }
}

/// Calls `onNetworkBack` when the network path becomes satisfied, while started. It runs on a
/// private queue: keep it short and non-blocking, as `wakeSender()` is. Start it when the app
/// opens its `Citizen` and stop it before closing that `Citizen`.
public final class ConnectivityWaker {
    private let onNetworkBack: () -> Void
    private let queue = DispatchQueue(label: "org.citizen.sdk.connectivity-waker")
    private let lock = NSLock()
    private var monitor: NWPathMonitor?

    public init(onNetworkBack: @escaping () -> Void) {
        self.onNetworkBack = onNetworkBack
    }

    /// Wakes `citizen`'s dossier sender (`citizen.dossiers().wakeSender()`).
    public convenience init(citizen: CitizenProtocol) {
        self.init(onNetworkBack: { citizen.dossiers().wakeSender() })
    }

    /// Starts monitoring; does nothing if already started. An `NWPathMonitor` cannot be restarted
    /// after `cancel()`, so each start makes a new one.
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        if monitor != nil {
            return
        }
        let created = NWPathMonitor()
        let state = PathWakeState()
        let wake = onNetworkBack
        // Handlers run one at a time on `queue`, so `state` needs no lock. A box rather than a
        // captured `var`: the handler may be `@Sendable`, which must not mutate captured vars.
        created.pathUpdateHandler = { path in
            if state.filter.update(isSatisfied: path.status == .satisfied) {
                wake()
            }
        }
        created.start(queue: queue)
        monitor = created
    }

    /// Stops monitoring; does nothing if not started.
    public func stop() {
        lock.lock()
        let running = monitor
        monitor = nil
        lock.unlock()
        running?.cancel()
    }
}

/// The filter of one `NWPathMonitor`, touched only on its queue.
private final class PathWakeState {
    var filter = PathWakeFilter()
}
