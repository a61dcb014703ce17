// QR check-ins as a Kotlin app sees them, against the real sandbox agency: codes minted through
// its test endpoint are classified, checked into the private diary (a second scan is a duplicate),
// a service counter hands out a queue ticket that is called, an exposure notice published for the
// venue matches on the phone, exactly the chosen entry is shared, the diary exports, hides and
// deletes; a tampered code is refused with its stable code; and at debug level no log line carries
// a venue's name or address, a notice's message or the diary's JSON (issue 8).
package org.citizen.sdk

import java.io.File
import java.io.IOException
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.security.KeyPairGenerator
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.Base64
import java.util.Collections
import java.util.UUID
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class CheckInsTest {
    @get:Rule
    val temp = TemporaryFolder()

    /** Venue ids unique to this run, so a reused sandbox never mixes runs. */
    private fun venueId(what: String) = "kt-$what-" + UUID.randomUUID().toString().take(8)

    @Test
    fun theCitizensJourneyLeavesNoPersonalDataInTheLogs(): Unit = runBlocking {
        val sink = LogRecorder()
        initLogging(LogLevel.DEBUG, sink)

        val cafeId = venueId("cafe")
        val cafeName = "Quán cà phê Sông Hương"
        val cafeAddress = "12 Lê Lợi, Phường Bến Nghé, Quận 1"
        val counterId = venueId("counter")
        val counterName = "Quầy tiếp nhận hồ sơ Phường Đa Kao"
        val counterAddress = "45 Đinh Tiên Hoàng, Quận 1"
        val noticeMessage = "Bạn đã đến Quán cà phê Sông Hương trong thời gian có ca nhiễm: theo dõi sức khỏe 14 ngày."

        val cafe = SandboxAdmin.mintVenue(cafeId, cafeName, cafeAddress, "venue")
        val counter = SandboxAdmin.mintVenue(counterId, counterName, counterAddress, "service_counter")
        assertEquals(ScannedKind.VenueCheckIn, classify(cafe.code))
        assertEquals(ScannedKind.CounterCheckIn, classify(counter.code))

        val events = EventRecorder()
        val seen = mutableListOf<Event>()

        /** Waits (at most [seconds]) for the first event matching [predicate], keeping every one seen. */
        fun await(seconds: Long = 20, predicate: (Event) -> Boolean): Event {
            val deadline = System.nanoTime() + seconds * 1_000_000_000
            while (true) {
                val left = (deadline - System.nanoTime()) / 1_000_000
                if (left <= 0) throw AssertionError("no matching event within $seconds s; seen: $seen")
                val event = events.next(maxOf(1, left / 1000)) ?: continue
                seen.add(event)
                if (predicate(event)) return event
            }
        }

        var exported = ""
        openTrustingSandbox(temp.newFolder("citizen")).use { citizen ->
            citizen.subscribe(events).use {
                val checkins = citizen.checkins()

                // The venue: recorded, announced, listed; a second scan is the same entry.
                val first = checkins.checkIn(cafe.code)
                assertFalse(first.duplicate)
                assertNull("a venue has no ticket", first.ticket)
                assertNull(first.ticketError)
                val cafeEntry = first.entry
                assertEquals(cafeId, cafeEntry.venueId)
                assertEquals(cafeName, cafeEntry.venueName)
                assertEquals(cafeAddress, cafeEntry.venueAddress)
                assertEquals(cafe.agency, cafeEntry.agency)
                assertEquals(VenueKind.VENUE, cafeEntry.kind)
                assertNull(cafeEntry.checkedOutAt)
                assertTrue(cafeEntry.autoCheckoutAt > cafeEntry.checkedInAt)
                assertEquals(Event.CheckedIn(cafeEntry.id), await { it is Event.CheckedIn })

                val again = checkins.checkIn(cafe.code)
                assertTrue(again.duplicate)
                assertEquals(cafeEntry.id, again.entry.id)
                assertEquals(listOf(cafeEntry.id), checkins.entries(null, 50u, false).entries.map { it.id })
                assertEquals(cafeEntry, checkins.entry(cafeEntry.id))

                // The counter, at one call a second: a ticket at once, then called.
                SandboxAdmin.setQueuePace(1)
                val atCounter = checkins.checkIn(counter.code)
                assertNull("ticket error: ${atCounter.ticketError}", atCounter.ticketError)
                val ticket = atCounter.ticket ?: throw AssertionError("no ticket at the counter")
                assertTrue(ticket.number, Regex("A\\d{3}").matches(ticket.number))
                assertEquals(TicketState.WAITING, ticket.state)
                val counterEntry = atCounter.entry
                assertEquals(VenueKind.SERVICE_COUNTER, counterEntry.kind)
                assertEquals(ticket, counterEntry.ticket)
                val called = await(30) {
                    it is Event.TicketUpdated && it.entryId == counterEntry.id && it.state == TicketState.CALLED
                } as Event.TicketUpdated
                assertEquals(ticket.number, called.number)
                assertEquals(0u, called.position)
                val stored = checkins.entry(counterEntry.id).ticket!!
                assertEquals(TicketState.CALLED, stored.state)
                assertNotNull("a called ticket names its counter", stored.counter)
                assertEquals(
                    "one check-in event per new entry, none for the duplicate",
                    listOf(cafeEntry.id, counterEntry.id),
                    seen.filterIsInstance<Event.CheckedIn>().map { it.entryId },
                )
                assertTrue(
                    "the waiting ticket was announced before it was called: $seen",
                    seen.any { it is Event.TicketUpdated && it.entryId == counterEntry.id && it.state == TicketState.WAITING },
                )

                // An exposure notice for the venue, covering now, matches on the phone.
                val now = System.currentTimeMillis() / 1000
                val noticeId = SandboxAdmin.publishNotice(cafeId, now - 3_600, now + 3_600, noticeMessage)
                val sync = checkins.syncNotices()
                assertEquals(0u, sync.refusedNotices)
                assertTrue("$sync", sync.newNotices >= 1u)
                assertEquals(1u, sync.newMatches)
                val matched = await { it is Event.ExposureMatched } as Event.ExposureMatched
                val matches = checkins.matches()
                assertEquals(1, matches.size)
                val match = matches[0]
                assertEquals(matched.matchId, match.id)
                assertEquals(cafeEntry.id, match.entryId)
                assertEquals(noticeId, match.noticeId)
                assertEquals(cafeId, match.venueId)
                assertEquals(cafeName, match.venueName)
                assertEquals(noticeMessage, match.message)
                assertTrue(match.fromAt <= cafeEntry.checkedInAt && cafeEntry.checkedInAt < match.untilAt)
                assertEquals("nothing new the second time", 0u, checkins.syncNotices().newMatches)

                // Check out of the venue, then share exactly that entry.
                val out = checkins.checkOut(cafeEntry.id)
                val checkedOutAt = out.checkedOutAt ?: throw AssertionError("not checked out")
                assertFalse(out.checkedOutAutomatically)
                assertEquals(Event.CheckedOut(cafeEntry.id), await { it is Event.CheckedOut })
                val receipt = checkins.share(listOf(cafeEntry.id), cafe.agency)
                assertEquals(1u, receipt.received)
                val share = receivedShare(SandboxAdmin.shares(), receipt.shareId)
                assertTrue(share, share.contains("\"agency\":\"${cafe.agency}\""))
                assertEquals("exactly one entry arrived: $share", 1, Regex("\"venue_id\"").findAll(share).count())
                assertTrue(share, share.contains("\"venue_id\":\"$cafeId\""))
                assertTrue(share, share.contains("\"checked_in_at\":${cafeEntry.checkedInAt}"))
                assertTrue(share, share.contains("\"checked_out_at\":$checkedOutAt"))
                assertFalse("the counter visit stays on the phone", share.contains(counterId))
                assertFalse("names never leave the phone", share.contains(cafeName))

                // The export holds the whole diary and the match.
                exported = checkins.exportJson()
                for (text in listOf(cafeId, counterId, noticeId)) {
                    assertTrue("the export names $text", exported.contains(text))
                }

                // Hidden: gone from the default list, still there on request.
                checkins.setHidden(cafeEntry.id, true)
                assertEquals(listOf(counterEntry.id), checkins.entries(null, 50u, false).entries.map { it.id })
                val all = checkins.entries(null, 50u, true).entries
                assertEquals(setOf(cafeEntry.id, counterEntry.id), all.map { it.id }.toSet())
                assertTrue(all.first { it.id == cafeEntry.id }.hidden)
                checkins.setHidden(cafeEntry.id, false)
                assertEquals(2, checkins.entries(null, 50u, false).entries.size)

                // Deleted: the entry and its match are gone.
                checkins.delete(cafeEntry.id)
                assertEquals(listOf(counterEntry.id), checkins.entries(null, 50u, true).entries.map { it.id })
                assertTrue(checkins.matches().isEmpty())
                expectThrows<CitizenException.NotFound> { runBlocking { checkins.entry(cafeEntry.id) } }
            }
        }

        // Positive control: the sink was live at debug during the journey.
        val lines = sink.all()
        assertTrue("the check-in reached the log: $lines", lines.any { it.message.contains("checked in") })
        val secrets = listOf(cafeName, cafeAddress, counterName, counterAddress, noticeMessage, exported) +
            // Pieces that would betray a dumped diary or notice even when cut short.
            listOf("Sông Hương", "Lê Lợi", "Đa Kao", "Đinh Tiên Hoàng", "\"venue_name\"", "\"venue_address\"", "\"message\"")
        for (record in lines) {
            for (secret in secrets) {
                assertFalse(
                    "a ${record.level} line of ${record.target} leaks personal data: ${record.message}",
                    record.message.contains(secret) || record.target.contains(secret),
                )
            }
        }
    }

    @Test
    fun offlineTheCounterCheckInIsRecordedAndItsTicketFailsAsRetryable(): Unit = runBlocking {
        val counterId = venueId("offline-counter")
        val counter = SandboxAdmin.mintVenue(counterId, "Quầy tiếp nhận Thử Nghiệm", "", "service_counter")
        val dir = temp.newFolder("citizen")
        val sandbox = Sandbox.get()
        val portal = URI(sandbox.url)
        // The SDK reaches the sandbox through a pass-through the test can cut, as the Rust test
        // goes offline by shutting its own sandbox down (this one is shared by the other tests).
        PassThrough(portal.host, portal.port).use { link ->
            val config = sandbox.config(dir, url = "https://${portal.host}:${link.port}/")
                .copy(trustAnchors = listOf(SandboxAdmin.trustAnchor()))
            Citizen.open(config, PlatformServices(fileSealer(File(dir.parentFile, dir.name + ".key")))).use { citizen ->
                // Online once, so the phone holds the sandbox's trust list; then offline.
                citizen.refreshTrustList()
                val checkins = citizen.checkins()
                link.cut()

                // Verified offline against the stored list: recorded; the ticket needs the network.
                val result = checkins.checkIn(counter.code)
                assertFalse(result.duplicate)
                assertEquals(counterId, result.entry.venueId)
                assertEquals(VenueKind.SERVICE_COUNTER, result.entry.kind)
                assertNull("no ticket offline", result.ticket)
                val error = result.ticketError ?: throw AssertionError("offline, the ticket should fail")
                assertEquals(error.detail, "network", error.code)
                assertTrue("a network failure is worth retrying: ${error.detail}", error.retryable)
                val entryId = result.entry.id
                assertEquals(listOf(entryId), checkins.entries(null, 50u, true).entries.map { it.id })
                assertNull(checkins.entry(entryId).ticket)
                expectThrows<CitizenException.Network> { runBlocking { checkins.requestTicket(entryId) } }

                // Back online: the recorded entry gets its ticket on request.
                link.restore()
                val ticket = checkins.requestTicket(entryId)
                assertTrue(ticket.number, Regex("A\\d{3}").matches(ticket.number))
                assertEquals(ticket.ticketId, checkins.entry(entryId).ticket?.ticketId)
                assertEquals(listOf(entryId), checkins.entries(null, 50u, true).entries.map { it.id })
            }
        }
    }

    /**
     * A TCP pass-through on a loopback port of its own to [targetHost]:[targetPort] (TLS runs end to end
     * through it). [cut] closes its listener and every connection, so new ones are refused as
     * with no portal at all; [restore] listens on the same port again.
     */
    private class PassThrough(private val targetHost: String, private val targetPort: Int) : AutoCloseable {
        private val connections = Collections.synchronizedSet(mutableSetOf<Socket>())
        @Volatile private var listener = listen(0)

        /** The port the SDK is given. */
        val port: Int = listener.localPort

        private fun listen(on: Int): ServerSocket {
            val server = ServerSocket()
            server.reuseAddress = true
            server.bind(InetSocketAddress(InetAddress.getLoopbackAddress(), on), 50)
            thread(isDaemon = true) {
                while (true) {
                    val client = try { server.accept() } catch (e: IOException) { return@thread }
                    val upstream = try { Socket(targetHost, targetPort) } catch (e: IOException) { client.close(); continue }
                    connections += client
                    connections += upstream
                    pipe(client, upstream)
                    pipe(upstream, client)
                }
            }
            return server
        }

        private fun pipe(from: Socket, to: Socket) = thread(isDaemon = true) {
            try {
                from.getInputStream().copyTo(to.getOutputStream())
            } catch (e: IOException) {
                // The other side or cut() closed it.
            } finally {
                from.close()
                to.close()
            }
        }

        fun cut() {
            listener.close()
            synchronized(connections) {
                connections.forEach { it.close() }
                connections.clear()
            }
        }

        fun restore() {
            listener = listen(port)
        }

        override fun close() = cut()
    }

    @Test
    fun aTamperedCodeIsRefusedAndRecordsNothing(): Unit = runBlocking {
        val venue = venueId("shop")
        val minted = SandboxAdmin.mintVenue(venue, "Nhà thuốc Thử Nghiệm", "", "venue")
        // The venue id changed under the agency's signature.
        val tampered = SignedQrForgery.tamper(minted.code, "CK1:", venue, venue.dropLast(1) + if (venue.last() == 'x') "y" else "x")
        assertEquals("classify reads, it does not verify", ScannedKind.VenueCheckIn, classify(tampered))

        openTrustingSandbox(temp.newFolder("citizen")).use { citizen ->
            val checkins = citizen.checkins()
            val refused = expectThrows<CitizenException.Untrusted> { runBlocking { checkins.checkIn(tampered) } }
            assertEquals("venue_bad_signature", refused.code)
            assertFalse(refused.detail, refused.detail.contains(venue))
            assertTrue(checkins.entries(null, 50u, true).entries.isEmpty())

            val unreadable = expectThrows<CitizenException.InvalidInput> { runBlocking { checkins.checkIn("CK1:not a code") } }
            assertEquals("text", unreadable.field)
            assertEquals("unreadable", unreadable.code)

            // The genuine code still checks in.
            assertEquals(venue, checkins.checkIn(minted.code).entry.venueId)
        }
    }

    @Test
    fun anAgencyToolChecksItsPrintedCodeWithItsOwnKey() {
        val venue = venueId("door")
        val minted = SandboxAdmin.mintVenue(venue, "Bộ phận một cửa", "1 Nguyễn Huệ", "service_counter")
        val now = System.currentTimeMillis() / 1000
        val details = verifyVenueCodeWithKey(minted.code, minted.signerJwk, now)
        assertEquals(venue, details.venueId)
        assertEquals(minted.agency, details.agency)
        assertEquals(VenueKind.SERVICE_COUNTER, details.kind)
        assertTrue(details.notBefore <= now && now < details.expiresAt)

        // Another key, a broken key, a tampered code and an expired check are refused.
        val wrongKey = expectThrows<CitizenException.Untrusted> { verifyVenueCodeWithKey(minted.code, freshP256Jwk(), now) }
        assertEquals("venue_bad_signature", wrongKey.code)
        val brokenKey = minted.signerJwk.replace(Regex("\"x\"\\s*:\\s*\"[^\"]+\""), "\"x\":\"AAAA\"")
        val broken = expectThrows<CitizenException.InvalidInput> { verifyVenueCodeWithKey(minted.code, brokenKey, now) }
        assertEquals("signer_jwk", broken.field)
        val tampered = SignedQrForgery.tamper(minted.code, "CK1:", venue, venue.dropLast(1) + if (venue.last() == 'x') "y" else "x")
        val forged = expectThrows<CitizenException.Untrusted> { verifyVenueCodeWithKey(tampered, minted.signerJwk, now) }
        assertEquals("venue_bad_signature", forged.code)
        val late = expectThrows<CitizenException.Untrusted> { verifyVenueCodeWithKey(minted.code, minted.signerJwk, details.expiresAt + 3600) }
        assertEquals("venue_code_expired", late.code)
    }

    /** The public JWK of a new P-256 key nobody signed anything with. */
    private fun freshP256Jwk(): String {
        val pair = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()
        val point = (pair.public as ECPublicKey).w
        fun coordinate(value: java.math.BigInteger): String {
            val bytes = value.toByteArray().takeLast(32).toByteArray()
            val padded = ByteArray(32 - bytes.size) + bytes
            return Base64.getUrlEncoder().withoutPadding().encodeToString(padded)
        }
        return """{"kty":"EC","crv":"P-256","x":"${coordinate(point.affineX)}","y":"${coordinate(point.affineY)}"}"""
    }

    @Test
    fun theDiaryPagesAndMisusesAreTypedExceptions(): Unit = runBlocking {
        val shop = SandboxAdmin.mintVenue(venueId("shop"), "Cửa hàng Thử Nghiệm", "", "venue")
        val event = SandboxAdmin.mintVenue(venueId("event"), "Hội chợ Thử Nghiệm", "", "event")
        openTrustingSandbox(temp.newFolder("citizen")).use { citizen ->
            val checkins = citizen.checkins()
            assertEquals(14u, checkins.retentionDays())
            val first = checkins.checkIn(shop.code).entry
            val second = checkins.checkIn(event.code).entry
            assertEquals(VenueKind.EVENT, second.kind)

            // Newest first, one a page, until the cursor runs out.
            val paged = mutableListOf<Long>()
            var cursor: EntryCursor? = null
            do {
                val page = checkins.entries(cursor, 1u, false)
                assertTrue(page.entries.size <= 1)
                paged += page.entries.map { it.id }
                cursor = page.next
            } while (cursor != null && paged.size < 5)
            assertEquals(listOf(second.id, first.id), paged)
            assertEquals(0uL, checkins.purgeExpired())

            val notACounter = expectThrows<CitizenException.InvalidState> { runBlocking { checkins.requestTicket(first.id) } }
            assertEquals("not_a_counter", notACounter.code)
            expectThrows<CitizenException.NotFound> { runBlocking { checkins.refreshTicket(first.id) } }
            val foreign = expectThrows<CitizenException.InvalidInput> { runBlocking { checkins.share(listOf(first.id), "another-agency") } }
            assertEquals("entry_ids", foreign.field)
            val none = expectThrows<CitizenException.InvalidInput> { runBlocking { checkins.share(emptyList(), shop.agency) } }
            assertEquals("entry_ids", none.field)
            for (call in listOf<suspend () -> Unit>(
                { checkins.delete(999_999) },
                { checkins.setHidden(999_999, true) },
                { checkins.checkOut(999_999) },
                { checkins.entry(999_999) },
            )) {
                expectThrows<CitizenException.NotFound> { runBlocking { call() } }
            }
            assertEquals(2, checkins.entries(null, 50u, true).entries.size)
        }
    }

    /**
     * The one share [shareId] of the sandbox's `{"shares":[{...},...]}`, as the JSON text of its
     * object (whatever the order of its members).
     */
    private fun receivedShare(shares: String, shareId: String): String {
        val objects = mutableListOf<String>()
        var depth = 0
        var start = -1
        var inString = false
        var escaped = false
        for ((i, c) in shares.withIndex()) {
            when {
                escaped -> escaped = false
                inString && c == '\\' -> escaped = true
                c == '"' -> inString = !inString
                inString -> {}
                c == '{' -> if (++depth == 2) start = i
                c == '}' -> if (depth-- == 2) objects.add(shares.substring(start, i + 1))
            }
        }
        return objects.singleOrNull { it.contains("\"share_id\":\"$shareId\"") }
            ?: throw AssertionError("share $shareId arrived once: $shares")
    }
}
