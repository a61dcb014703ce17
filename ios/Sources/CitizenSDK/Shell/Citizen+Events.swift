// The SDK's events as an AsyncStream, over the generated `subscribe(listener:)`.
//
// Owns: the subscription's lifetime (one per stream, cancelled when the stream terminates) and the
// buffer between the SDK's thread and the consuming task. Does not own which events exist or when
// they are emitted: the Rust core does.

extension CitizenProtocol {
    /// The SDK's events from now on, buffering the newest 64 for a consumer that is behind.
    ///
    /// ```swift
    /// for await event in citizen.events {
    ///     // ...
    /// }
    /// ```
    ///
    /// Each access subscribes anew. The stream never finishes by itself; it ends, and with it the
    /// subscription, when the consuming task is cancelled or leaves its loop and the stream is
    /// released. See `events(bufferingNewest:)` for the buffering policy.
    public var events: AsyncStream<Event> {
        events(bufferingNewest: defaultEventBuffer)
    }

    /// The SDK's events from now on, keeping at most `limit` undelivered ones.
    ///
    /// The SDK delivers events synchronously on the thread that caused them (a store, network or
    /// runtime thread), so delivery never waits for the consumer: when a slow consumer lets the
    /// buffer fill up, the OLDEST undelivered event is dropped (`.bufferingNewest`). Waiting would
    /// stall the SDK's own work behind the app, and an unbounded buffer would grow without limit
    /// behind a consumer that stopped reading. Of the events, the newest matter most:
    /// `statusChanged` carries the whole status, and a later `portalReachabilityChanged`
    /// supersedes an earlier one. A consumer that must not miss anything reads `status()` when it
    /// (re)starts. The consuming task runs on its own executor, never on the SDK's thread: consume
    /// on the main actor for UI work.
    public func events(bufferingNewest limit: Int) -> AsyncStream<Event> {
        precondition(limit > 0, "the buffer must hold at least one event")
        return AsyncStream(Event.self, bufferingPolicy: .bufferingNewest(limit)) { continuation in
            let handle = subscribe(listener: StreamEventListener(continuation))
            continuation.onTermination = { _ in
                handle.cancel()
            }
        }
    }
}

/// How many undelivered events `events` keeps for a consumer that is behind.
private let defaultEventBuffer = 64

/// Hands each event to the stream; `yield` never blocks (the buffer drops the oldest event when
/// full, and a terminated stream ignores it).
private final class StreamEventListener: EventListener, Sendable {
    private let continuation: AsyncStream<Event>.Continuation

    init(_ continuation: AsyncStream<Event>.Continuation) {
        self.continuation = continuation
    }

    func onEvent(event: Event) {
        continuation.yield(event)
    }
}
