// EU Digital COVID Certificates in the wallet, through the generated bindings and against the
// sandbox's health signer: a minted `HC1:` is classified, kept (no activation needed), listed
// without personal data, read back, verified by an officer; a tampered one and an expired one are
// refused with their stable codes; no log line carries the holder's name or birth date.
package org.citizen.sdk

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class HealthCertificateTest {
    @get:Rule
    val temp = TemporaryFolder()

    @Test
    fun aCertificateIsKeptListedAndReadBackAndForgeriesAreRefused(): Unit = runBlocking {
        val sink = LogRecorder()
        initLogging(LogLevel.DEBUG, sink)
        val family = "Trần"
        val given = "Thị Mai"
        val birth = "1984-07-19"
        val hc1 = SandboxAdmin.mintDcc(
            """{"family_name":"$family","given_name":"$given","date_of_birth":"$birth","vaccination_date":"2021-09-30"}""",
        )
        assertEquals(ScannedKind.HealthCertificate, classify(hc1))

        openTrustingSandbox(temp.newFolder("citizen")).use { citizen ->
            val wallet = citizen.wallet()
            assertEquals("no activation needed", WalletState.NotActivated, wallet.state())
            assertTrue(wallet.healthCertificates().isEmpty())

            val kept = wallet.addHealthCertificate(hc1)
            assertEquals(HealthCertificateKind.VACCINATION, kept.kind)
            assertEquals("VN", kept.issuerCountry)
            val now = System.currentTimeMillis() / 1000
            assertTrue(kept.issuedAt <= now + 300 && now < kept.expiresAt)
            assertEquals("the same code again is the one kept", kept.id, wallet.addHealthCertificate(hc1).id)
            assertEquals(listOf(kept), wallet.healthCertificates())

            val content = wallet.healthCertificate(kept.id) ?: throw AssertionError("kept certificate not found")
            assertEquals(family, content.familyName)
            assertEquals(given, content.givenName)
            assertEquals(birth, content.dateOfBirth)
            val entry = content.entries.single() as HealthEntry.Vaccination
            assertEquals("2021-09-30", entry.date)
            assertEquals(null, wallet.healthCertificate("no-such-id"))

            val checked = citizen.verifier().verifyHealthCertificate(hc1)
            assertEquals(birth, checked.dateOfBirth)

            // The birth date changed under the signer's signature.
            val tampered = SignedQrForgery.tamper(hc1, "HC1:", birth, "1984-07-18")
            assertEquals(ScannedKind.HealthCertificate, classify(tampered))
            val forged = expectThrows<CitizenException.Untrusted> { runBlocking { wallet.addHealthCertificate(tampered) } }
            assertEquals("dcc_signature_invalid", forged.code)
            val forgedAtTheDoor = expectThrows<CitizenException.Untrusted> {
                runBlocking { citizen.verifier().verifyHealthCertificate(tampered) }
            }
            assertEquals("dcc_signature_invalid", forgedAtTheDoor.code)

            val expired = SandboxAdmin.mintDcc("""{"valid_for_secs":-3600}""")
            val late = expectThrows<CitizenException.Untrusted> { runBlocking { wallet.addHealthCertificate(expired) } }
            assertEquals("dcc_expired", late.code)

            val garbled = expectThrows<CitizenException.InvalidInput> { runBlocking { wallet.addHealthCertificate("HC1:not a certificate") } }
            assertEquals("health_certificate", garbled.field)
            assertEquals("dcc_malformed", garbled.code)

            assertEquals("refusals keep nothing", listOf(kept.id), wallet.healthCertificates().map { it.id })
            assertTrue(wallet.removeHealthCertificate(kept.id))
            assertFalse(wallet.removeHealthCertificate(kept.id))
            assertTrue(wallet.healthCertificates().isEmpty())
        }

        val lines = sink.all()
        assertTrue("the sink was live: $lines", lines.any { it.message.contains("health certificate kept") })
        for (record in lines) {
            for (secret in listOf(family, given, birth)) {
                assertFalse("a ${record.level} line leaks personal data: ${record.message}", record.message.contains(secret))
            }
        }
    }
}
