// The shell's `events(): Flow<Event>` over a real Citizen: events arrive, the Rust subscription ends
// when the collection stops (however it stops), and a stalled collector never holds up the SDK.
//
// A SubscriptionSpy stands between the flow and the real Citizen (Kotlin interface delegation:
// every call goes to the real one) and records each event the SDK delivers to the flow's
// listener. "Nothing was delivered after the collection stopped" is therefore a fact about the
// Rust subscription, not about the flow's (closed) channel. Delivery is synchronous on the thread
// that caused the event, so it is checked right after the call that emits, without sleeping.
package org.citizen.sdk

import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.citizen.sdk.shell.events
import org.junit.Assert.assertEquals
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class EventFlowTest {
    @get:Rule
    val temp = TemporaryFolder()

    private suspend fun open(): Citizen =
        Citizen.open(
            offlineConfig(temp.newFolder("data")),
            PlatformServices(fileSealer(temp.root.resolve("sealer.key"))),
        )

    @Test
    fun theFirstEventArrivesAndFirstEndsTheSubscription(): Unit = runBlocking {
        open().use { citizen ->
            val spy = SubscriptionSpy(citizen)
            val first = async(Dispatchers.Default) { spy.events().first() }
            spy.awaitSubscription()

            citizen.rotateStoreKey()
            assertEquals(Event.StoreKeyRotated, withTimeout(TIMEOUT_MS) { first.await() })
            assertEquals(listOf<Event>(Event.StoreKeyRotated), spy.drainDelivered())

            // first() has returned: the subscription was cancelled before it did.
            citizen.rotateStoreKey()
            assertEquals("delivered after the collection stopped", emptyList<Event>(), spy.drainDelivered())
        }
    }

    @Test
    fun cancellingTheCollectorEndsTheSubscription(): Unit = runBlocking {
        open().use { citizen ->
            val spy = SubscriptionSpy(citizen)
            val received = Channel<Event>(Channel.UNLIMITED)
            val collector = launch(Dispatchers.Default) { spy.events().collect { received.send(it) } }
            spy.awaitSubscription()

            repeat(2) {
                citizen.rotateStoreKey()
                assertEquals(Event.StoreKeyRotated, withTimeout(TIMEOUT_MS) { received.receive() })
            }
            assertEquals(2, spy.drainDelivered().size)

            collector.cancelAndJoin()
            citizen.rotateStoreKey()
            assertEquals("delivered after the collector was cancelled", emptyList<Event>(), spy.drainDelivered())
            assertEquals(null, received.tryReceive().getOrNull())
        }
    }

    @Test
    fun aStalledCollectorHoldsNothingUpAndKeepsTheNewestEvents(): Unit = runBlocking {
        open().use { citizen ->
            val spy = SubscriptionSpy(citizen)
            val status = citizen.status()
            val stalled = CompletableDeferred<Unit>()
            val gate = CompletableDeferred<Unit>()
            val collected = async(Dispatchers.Default) {
                spy.events(capacity = 2)
                    .onEach {
                        stalled.complete(Unit)
                        gate.await()
                    }
                    .take(3)
                    .toList()
            }
            val listener = spy.awaitSubscription()
            citizen.rotateStoreKey()
            withTimeout(TIMEOUT_MS) { stalled.await() }

            // The collector holds the first event and waits. The SDK carries on regardless: these
            // rotations return, and every event still reaches the listener at once.
            withTimeout(TIMEOUT_MS) { repeat(3) { citizen.rotateStoreKey() } }
            assertEquals(4, spy.drainDelivered().size)
            // Two distinct events, delivered as the SDK delivers them (on a thread of its own).
            val newest = (1..2).map { Event.StatusChanged(status.copy(queuedWork = it.toULong())) }
            val sdkThread = Thread { newest.forEach(listener::onEvent) }.apply { start() }
            sdkThread.join(TIMEOUT_MS)
            assertEquals("delivery blocked on the stalled collector", false, sdkThread.isAlive)

            // A buffer of two kept the two newest events; the three rotations before them were
            // dropped, oldest first.
            gate.complete(Unit)
            assertEquals(
                listOf<Event>(Event.StoreKeyRotated) + newest,
                withTimeout(TIMEOUT_MS) { collected.await() },
            )
            citizen.rotateStoreKey()
            assertEquals("delivered after take(3) finished", emptyList<Event>(), spy.drainDelivered())
        }
    }

    private companion object {
        const val TIMEOUT_MS = 10_000L
    }
}

/** The real [citizen], except that it records what the SDK delivers to each subscriber. */
class SubscriptionSpy(private val citizen: Citizen) : CitizenInterface by citizen {
    private val delivered = LinkedBlockingQueue<Event>()
    private val subscribers = LinkedBlockingQueue<EventListener>()

    override fun subscribe(listener: EventListener): SubscriptionHandle {
        val handle = citizen.subscribe(
            object : EventListener {
                override fun onEvent(event: Event) {
                    delivered.add(event)
                    listener.onEvent(event)
                }
            },
        )
        subscribers.add(listener)
        return handle
    }

    /** The next subscriber's own listener, once it has subscribed. */
    suspend fun awaitSubscription(): EventListener = withContext(Dispatchers.IO) {
        subscribers.poll(10, TimeUnit.SECONDS) ?: throw AssertionError("nothing subscribed within 10 s")
    }

    /** Every event delivered to a subscriber since the last call. */
    fun drainDelivered(): List<Event> = mutableListOf<Event>().also { delivered.drainTo(it) }
}
