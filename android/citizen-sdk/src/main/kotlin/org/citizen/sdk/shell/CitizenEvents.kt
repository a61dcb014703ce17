// The SDK's events as a Kotlin Flow, over the generated `subscribe(listener)`.
//
// Owns: the subscription's lifetime (one per collection, cancelled when the collection stops) and
// the buffer between the SDK's thread and the collector. Does not own which events exist or when
// they are emitted: the Rust core does.
package org.citizen.sdk.shell

import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import org.citizen.sdk.CitizenInterface
import org.citizen.sdk.Event
import org.citizen.sdk.EventListener

/** How many undelivered events [events] keeps for a collector that is behind. */
const val DEFAULT_EVENT_BUFFER: Int = 64

/**
 * The SDK's events, from the moment collection starts until it stops: each collection subscribes
 * once, and cancelling the collecting coroutine (or an operator such as `first()` or `take(n)`
 * finishing it) cancels that subscription. The flow never completes by itself.
 *
 * The SDK delivers events synchronously on the thread that caused them (a store, network or
 * runtime thread), so delivery here never waits for the collector: each event goes into a buffer
 * of [capacity] events, and when a slow collector lets it fill up, the OLDEST undelivered event is
 * dropped. Why this policy: waiting would stall the SDK's own work behind the app's collector, and
 * an unbounded buffer would grow without limit behind a collector that stopped consuming (a paused
 * screen). Of the events, the newest matters most: `StatusChanged` carries the whole status, and a
 * later `PortalReachabilityChanged` supersedes an earlier one. A collector that must not miss
 * anything reads `status()` when it (re)starts. The collector runs in its own coroutine's context,
 * never on the SDK's thread: collect on the main dispatcher for UI work.
 */
@JvmOverloads
fun CitizenInterface.events(capacity: Int = DEFAULT_EVENT_BUFFER): Flow<Event> {
    require(capacity > 0) { "capacity must be at least 1, was $capacity" }
    return callbackFlow {
        val handle = subscribe(
            object : EventListener {
                override fun onEvent(event: Event) {
                    // Never suspends: with DROP_OLDEST the buffer always takes the event. After
                    // the collection stopped, the closed channel refuses it, which is fine too.
                    trySend(event)
                }
            },
        )
        awaitClose {
            handle.cancel()
            // Frees the native handle now rather than when the garbage collector gets to it.
            handle.close()
        }
    }.buffer(capacity, BufferOverflow.DROP_OLDEST)
}
