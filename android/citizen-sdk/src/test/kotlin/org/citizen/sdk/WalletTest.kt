// The wallet journey through the generated Kotlin bindings, against the real sandbox portal:
// activation over OpenID4VCI with the shell's own ECDSA key store (DER signatures from the JVM's
// provider, as the Android Keystore returns them) -> PIN -> identity QR -> verification by a second
// SDK instance in verifier mode -> history; the lockout; a revoked credential refused; a remote
// login (OpenID4VP) to the sandbox relying party where the citizen approves a subset.
package org.citizen.sdk

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.security.KeyStore as JavaKeyStore
import java.security.cert.CertificateFactory
import javax.net.ssl.SSLContext
import javax.net.ssl.TrustManagerFactory
import kotlinx.coroutines.runBlocking
import org.citizen.sdk.shell.EcdsaKeyStore
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class WalletTest {
    @get:Rule
    val temp = TemporaryFolder()

    private val pin = "802417"

    /** An SDK instance on [dir] trusting the sandbox and its trust anchor, keys in [keys]. */
    private suspend fun open(sandbox: Sandbox, dir: File, keys: MemoryKeySource = MemoryKeySource()): Citizen {
        val anchor = SandboxAdmin.trustAnchor()
        val config = sandbox.config(dir).copy(trustAnchors = listOf(anchor))
        val platform = PlatformServices(
            sealer = fileSealer(File(dir.parentFile, dir.name + ".key")),
            keyStore = EcdsaKeyStore(keys),
        )
        return Citizen.open(config, platform).also { it.refreshTrustList() }
    }

    private suspend fun activate(citizen: Citizen, idNumber: String): CredentialSummary {
        val code = SandboxAdmin.enroll(idNumber)
        return citizen.wallet().activate(ActivationRequest(idNumber = idNumber, activationCode = code, pin = pin))
    }

    @Test
    fun activationPresentationVerificationAndHistory(): Unit = runBlocking {
        val sandbox = Sandbox.get()
        val keys = MemoryKeySource()
        open(sandbox, temp.newFolder("citizen"), keys).use { citizen ->
            val wallet = citizen.wallet()
            assertEquals(WalletState.NotActivated, wallet.state())
            val pid = activate(citizen, "001090023456")
            assertEquals("urn:eudi:pid:vn:1", pid.vct)
            assertEquals(WalletState.Active, wallet.state())
            assertEquals(WalletState.Active, citizen.status().walletState)
            assertEquals("one device key, made through the shell's key store", 1, keys.policies.size)

            val qr = wallet.identityQr(IdentityQrRequest(pin = pin, claims = listOf("full_name", "age_over_18")))
            assertTrue(qr.text.startsWith("ID1:"))
            assertEquals(qr.width.toInt() * qr.width.toInt(), qr.modules.size)
            assertTrue(qr.svg.startsWith("<svg"))

            open(sandbox, temp.newFolder("officer")).use { officer ->
                val verified = officer.verifier().verifyIdentityQr(qr.text, null)
                assertTrue(verified.claimsJson, verified.claimsJson.contains("\"full_name\":\"Nguyễn Văn An\""))
                assertTrue(verified.claimsJson.contains("\"age_over_18\":true"))
                assertFalse("undisclosed claims stay hidden", verified.claimsJson.contains("id_number"))
                assertEquals(CredentialStatus.VALID, verified.status.status)

                val replay = expectThrows<CitizenException.Untrusted> { runBlocking { officer.verifier().verifyIdentityQr(qr.text, null) } }
                assertEquals("replayed", replay.code)

                // Two-way: a challenge from the officer, answered by the wallet.
                val challenge = officer.verifier().newChallenge("officer:kotlin", listOf("birth_date"))
                val answer = wallet.identityQr(IdentityQrRequest(pin = pin, challenge = challenge.text))
                val checked = officer.verifier().verifyIdentityQr(answer.text, challenge)
                assertEquals("{\"birth_date\":\"1990-05-17\"}", checked.claimsJson)
            }

            val history = wallet.historyPage(null, null, 10u)
            assertEquals(
                listOf(HistoryKind.PRESENTATION, HistoryKind.PRESENTATION, HistoryKind.ISSUANCE),
                history.records.map { it.kind },
            )
            assertEquals(listOf("birth_date"), history.records[0].claims)
            assertEquals("officer:kotlin", history.records[0].counterpartyId)
        }
    }

    @Test
    fun wrongPinsLockTheWallet(): Unit = runBlocking {
        val sandbox = Sandbox.get()
        open(sandbox, temp.newFolder("citizen")).use { citizen ->
            activate(citizen, "001090034567")
            val wallet = citizen.wallet()
            repeat(4) {
                val wrong = expectThrows<CitizenException.WrongPin> { runBlocking { wallet.verifyPin("135790") } }
                assertEquals((4 - it).toUInt(), wrong.attemptsBeforeLockout)
            }
            expectThrows<CitizenException.Locked> { runBlocking { wallet.verifyPin("135790") } }
            assertTrue(wallet.state() is WalletState.Locked)
            expectThrows<CitizenException.Locked> { runBlocking { wallet.identityQr(IdentityQrRequest(pin = pin)) } }
        }
    }

    @Test
    fun aRevokedCredentialIsRefused(): Unit = runBlocking {
        val sandbox = Sandbox.get()
        val idNumber = "001090045678"
        open(sandbox, temp.newFolder("citizen")).use { citizen ->
            activate(citizen, idNumber)
            val wallet = citizen.wallet()
            val qr = wallet.identityQr(IdentityQrRequest(pin = pin))
            SandboxAdmin.setCredentialStatus(idNumber, "revoked")
            assertEquals(CredentialStatus.REVOKED, wallet.refreshStatus(true)?.status)
            val refused = expectThrows<CitizenException.InvalidState> {
                runBlocking { wallet.identityQr(IdentityQrRequest(pin = pin)) }
            }
            assertEquals("revoked", refused.code)
            open(sandbox, temp.newFolder("officer")).use { officer ->
                val rejected = expectThrows<CitizenException.Untrusted> {
                    runBlocking { officer.verifier().verifyIdentityQr(qr.text, null) }
                }
                assertEquals("revoked", rejected.code)
            }
        }
    }

    @Test
    fun theRelyingPartyReceivesExactlyTheApprovedSubset(): Unit = runBlocking {
        val sandbox = Sandbox.get()
        open(sandbox, temp.newFolder("citizen")).use { citizen ->
            activate(citizen, "001090056789")
            val wallet = citizen.wallet()
            val request = SandboxAdmin.rpRequest(listOf("full_name"), listOf("birth_date", "id_number"), encrypted = true)
            assertEquals(ScannedKind.PresentationRequest("rp.sandbox.example"), classify(request.link))

            val consent = wallet.prepareDisclosure(request.link)
            assertEquals("rp.sandbox.example", consent.relyingPartyId)
            assertTrue(consent.encryptedResponse)
            assertTrue(consent.purpose!!.isNotEmpty())
            assertEquals(
                listOf("full_name" to true, "birth_date" to false, "id_number" to false),
                consent.claims.map { it.name to it.required },
            )
            assertEquals("Nguyễn Văn An", consent.claims[0].valueText)
            assertTrue("nothing is sent before approval", SandboxAdmin.rpResult(request.id).contains("\"state\":\"pending\""))

            val receipt = wallet.approveDisclosure(consent.requestId, DisclosureApproval(pin = pin, optionalClaims = listOf("birth_date")))
            assertEquals(listOf("full_name", "birth_date"), receipt.disclosed)
            assertTrue(receipt.redirectUri!!.startsWith("https://"))
            val result = SandboxAdmin.rpResult(request.id)
            assertTrue(result, result.contains("\"state\":\"completed\""))
            assertTrue(result, result.contains("\"birth_date\":\"1990-05-17\""))
            assertTrue(result, result.contains("\"key_binding\":true"))
            assertFalse("the optional claim left out never arrives", result.contains("id_number"))

            // A second request, declined: the relying party hears access_denied.
            val second = SandboxAdmin.rpRequest(listOf("full_name"), emptyList(), encrypted = false)
            val again = wallet.prepareDisclosure(second.link)
            assertEquals("shared with before", true, again.lastSharedAt != null)
            wallet.declineDisclosure(again.requestId)
            assertTrue(SandboxAdmin.rpResult(second.id).contains("\"state\":\"declined\""))
            val gone = expectThrows<CitizenException.NotFound> {
                runBlocking { wallet.approveDisclosure(again.requestId, DisclosureApproval(pin = pin)) }
            }
            assertTrue(gone.detail.isNotEmpty())

            val history = wallet.historyPage(null, null, 10u).records
            assertEquals(listOf(HistoryOutcome.DECLINED, HistoryOutcome.COMPLETED), history.take(2).map { it.outcome })
            assertEquals(listOf("full_name", "birth_date"), history[1].claims)
            assertEquals("rp.sandbox.example", history[1].counterpartyId)
        }
    }
}

/** A check-in code the sandbox agency minted: the `CK1:` text and the agency's id. */
/** A minted check-in code, its agency, and the public JWK (JSON) of the key it was signed with. */
data class MintedVenue(val code: String, val agency: String, val signerJwk: String)

/** A presentation request the sandbox relying party made: its id and the link a QR would show. */
data class RpRequest(val id: String, val link: String)

/** A dossier the sandbox portal received, as `GET /v1/test/dossiers` lists it (no personal data). */
data class PortalDossier(
    val idempotencyKey: String,
    val receiptCode: String,
    val procedureCode: String,
    val attachments: Int,
    val status: String,
)

/**
 * The sandbox's test-only endpoints (enrolment, credential status, venue codes, exposure notices,
 * queue pace, received shares, EU DCCs, received dossiers, fault injection) over HTTPS, trusting its CA, and the trust anchor it
 * publishes. What a registration office, an issuer's back office and an agency's tools do.
 */
object SandboxAdmin {
    private val sandboxUrl: String get() = System.getenv("CITIZEN_SANDBOX_URL")

    private val http: HttpClient by lazy {
        val ca = CertificateFactory.getInstance("X.509")
            .generateCertificate(File(System.getenv("CITIZEN_SANDBOX_CA")).inputStream())
        val store = JavaKeyStore.getInstance(JavaKeyStore.getDefaultType()).apply {
            load(null, null)
            setCertificateEntry("sandbox", ca)
        }
        val trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm()).apply { init(store) }
        val tls = SSLContext.getInstance("TLS").apply { init(null, trust.trustManagers, null) }
        HttpClient.newBuilder().sslContext(tls).build()
    }

    fun trustAnchor(): TrustAnchor =
        TrustAnchor(kid = System.getenv("CITIZEN_SANDBOX_TRUST_ANCHOR_KID"), jwkJson = System.getenv("CITIZEN_SANDBOX_TRUST_ANCHOR_JWK"))

    /** Enrols the sample citizen under [idNumber] and returns the activation code. */
    fun enroll(idNumber: String): String {
        val body = post("v1/test/enrollments", """{"id_number":"$idNumber","full_name":"Nguyễn Văn An","birth_date":"1990-05-17","sex":"male","place_of_origin":"Hà Nội","place_of_residence":"Thành phố Hồ Chí Minh"}""")
        return Regex("\"activation_code\"\\s*:\\s*\"([^\"]+)\"").find(body)?.groupValues?.get(1)
            ?: throw AssertionError("no activation code in the enrolment answer")
    }

    /** Asks the sandbox relying party for a request of [required] and [optional] PID claims. */
    fun rpRequest(required: List<String>, optional: List<String>, encrypted: Boolean): RpRequest {
        fun list(names: List<String>) = names.joinToString(",", "[", "]") { "\"$it\"" }
        val body = post("v1/test/rp/requests", """{"claims":${list(required)},"optional_claims":${list(optional)},"encrypted":$encrypted}""")
        fun field(name: String) = Regex("\"$name\"\\s*:\\s*\"([^\"]+)\"").find(body)?.groupValues?.get(1)
            ?: throw AssertionError("no $name in the relying party's answer")
        return RpRequest(id = field("id"), link = field("link"))
    }

    /** What the sandbox relying party verified for request [id], as its JSON. */
    fun rpResult(id: String): String {
        val request = HttpRequest.newBuilder(URI.create(sandboxUrl + "v1/test/rp/results/" + id)).GET().build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        if (response.statusCode() != 200) throw AssertionError("results answered ${response.statusCode()}")
        return response.body()
    }

    fun setCredentialStatus(idNumber: String, status: String) {
        post("v1/test/credential-status", """{"id_number":"$idNumber","status":"$status"}""")
    }

    /**
     * Mints a check-in code of the sandbox agency for [venueId] ([kind] `venue`, `service_counter`
     * or `event`) and returns its `CK1:` text and the agency.
     */
    fun mintVenue(venueId: String, name: String, address: String, kind: String): MintedVenue {
        val body = post(
            "v1/test/venues",
            """{"venue_id":${json(venueId)},"name":${json(name)},"address":${json(address)},"kind":"$kind"}""",
        )
        val jwk = Regex("\"signer_jwk\"\\s*:\\s*(\\{[^{}]*\\})").find(body)?.groupValues?.get(1)
            ?: throw AssertionError("no signer_jwk in the sandbox's answer")
        return MintedVenue(code = field(body, "code"), agency = field(body, "agency"), signerJwk = jwk)
    }

    /** Publishes an exposure notice for [venueId] covering [from] until [until] (Unix seconds). */
    fun publishNotice(venueId: String, from: Long, until: Long, message: String): String {
        val body = post("v1/test/notices", """{"venue_id":${json(venueId)},"from":$from,"until":$until,"message":${json(message)}}""")
        return field(body, "id")
    }

    /** Sets how often every counter queue calls its next ticket, for the tickets issued from now on. */
    fun setQueuePace(secondsPerCall: Int) {
        post("v1/test/queues/pace", """{"seconds_per_call":$secondsPerCall}""")
    }

    /** Every share of diary entries the sandbox agency received, as its JSON (`{"shares":[...]}`). */
    fun shares(): String = get("v1/test/shares")

    /**
     * Sets the sandbox's fault knobs for `/v1/dossiers` and `/v1/uploads` (`POST /v1/test/faults`):
     * [errorRate] of them answered `503`. All zero: a well-behaved portal.
     */
    fun setFaults(errorRate: Double = 0.0, throttleRate: Double = 0.0, retryAfterSecs: Int = 0, dropRate: Double = 0.0) {
        post(
            "v1/test/faults",
            """{"error_rate":$errorRate,"throttle_rate":$throttleRate,"retry_after_secs":$retryAfterSecs,"drop_rate":$dropRate}""",
        )
    }

    /** Every dossier the sandbox portal received, oldest first (`GET /v1/test/dossiers`). */
    fun dossiers(): List<PortalDossier> {
        val body = get("v1/test/dossiers")
        // Each dossier is a flat object; the envelope (`{"dossiers":[]}` when empty) has no key.
        return Regex("\\{[^{}]*\\}").findAll(body).filter { "\"idempotency_key\"" in it.value }.map { match ->
            val item = match.value
            fun text(name: String) = field(item, name)
            val count = Regex("\"attachments\"\\s*:\\s*(\\d+)").find(item)?.groupValues?.get(1)
                ?: throw AssertionError("no attachments in the sandbox's answer")
            PortalDossier(
                idempotencyKey = text("idempotency_key"),
                receiptCode = text("receipt_code"),
                procedureCode = text("procedure_code"),
                attachments = count.toInt(),
                status = text("status"),
            )
        }.toList()
    }

    /**
     * Sets the sandbox clerk (`POST /v1/test/clerk`): [paceMs] between two steps of a dossier, and
     * whether it asks one supplement per dossier ([supplement] `once`) or none (`never`).
     */
    fun setClerk(paceMs: Long, supplement: String = "once") {
        post("v1/test/clerk", """{"pace_ms":$paceMs,"supplement":"$supplement"}""")
    }

    /** The sandbox bank pays the VietQR [qr] (`POST /v1/bank/transfers`); returns its transaction id. */
    fun pay(qr: String): String = field(post("v1/bank/transfers", """{"qr":${json(qr)}}"""), "transaction_id")

    /** The idempotency keys of the dossiers the sandbox portal received. */
    fun dossierKeys(): List<String> = dossiers().map { it.idempotencyKey }

    /** Mints an EU DCC (`HC1:`) signed by the sandbox's health signer; [json] is the request body. */
    fun mintDcc(body: String = "{}"): String = field(post("v1/test/dcc", body), "hc1")

    /** [text] as a JSON string literal. */
    private fun json(text: String): String = buildString {
        append('"')
        for (c in text) {
            when {
                c == '"' -> append("\\\"")
                c == '\\' -> append("\\\\")
                c < ' ' -> append(String.format("\\u%04x", c.code))
                else -> append(c)
            }
        }
        append('"')
    }

    private fun field(body: String, name: String): String =
        Regex("\"$name\"\\s*:\\s*\"([^\"]+)\"").find(body)?.groupValues?.get(1)
            ?: throw AssertionError("no $name in the sandbox's answer")

    private fun get(path: String): String {
        val request = HttpRequest.newBuilder(URI.create(sandboxUrl + path)).GET().build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        if (response.statusCode() != 200) throw AssertionError("sandbox $path answered ${response.statusCode()}")
        return response.body()
    }

    private fun post(path: String, json: String): String {
        val request = HttpRequest.newBuilder(URI.create(sandboxUrl + path))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        if (response.statusCode() !in 200..299) throw AssertionError("sandbox $path answered ${response.statusCode()}")
        return response.body()
    }
}
