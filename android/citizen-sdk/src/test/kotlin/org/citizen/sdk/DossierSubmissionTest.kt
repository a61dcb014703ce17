// Filing a dossier as a Kotlin app does, through the generated bindings against the real sandbox
// portal: an activated wallet, the catalogue synced, a birth registration found without
// diacritics, a draft pre-filled from the PID (the citizen approves the claims), the rest filled,
// a PDF attached and validated; a draft that does not validate and a wrong PIN are refused and
// queue nothing; submitted with the PIN while the portal answers 503 it waits Queued, and once the
// portal is back it is Received with a receipt code, which the portal confirms: exactly one
// dossier under that idempotency key.
package org.citizen.sdk

import java.io.File
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.citizen.sdk.shell.EcdsaKeyStore
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class DossierSubmissionTest {
    @get:Rule
    val temp = TemporaryFolder()

    private val pin = "802417"
    private val idNumber = "001090078901"

    private suspend fun activated(dir: File): Citizen {
        val config = Sandbox.get().config(dir).copy(trustAnchors = listOf(SandboxAdmin.trustAnchor()))
        val platform = PlatformServices(
            sealer = fileSealer(File(dir.parentFile, dir.name + ".key")),
            keyStore = EcdsaKeyStore(MemoryKeySource()),
        )
        val citizen = Citizen.open(config, platform)
        citizen.refreshTrustList()
        val code = SandboxAdmin.enroll(idNumber)
        citizen.wallet().activate(ActivationRequest(idNumber = idNumber, activationCode = code, pin = pin))
        return citizen
    }

    /** A value that passes [field]'s checks. */
    private fun sample(field: FormField): String = when (field.kind) {
        FieldKind.TEXT -> "Nguyễn Minh Khang"
        FieldKind.ADDRESS -> "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội"
        FieldKind.PHONE -> "0912345678"
        FieldKind.EMAIL -> "citizen@example.vn"
        FieldKind.ID_NUMBER -> idNumber
        FieldKind.DATE -> "2026-01-15"
        FieldKind.NUMBER -> maxOf(field.min ?: 1L, 1L).toString()
        FieldKind.SELECT -> field.options.first().value
    }

    /** A PDF-looking document of [size] bytes that does not compress. */
    private fun pdf(size: Int): ByteArray {
        val head = "%PDF-1.7\n% Kotlin journey\n".toByteArray()
        val random = java.util.Random(size.toLong())
        return head + ByteArray(size - head.size).also { random.nextBytes(it) }
    }

    @Test
    fun aDossierIsFiledQueuedOfflineAndReceivedOnceWithAReceipt(): Unit = runBlocking {
        val events = EventRecorder()
        activated(temp.newFolder("citizen")).use { citizen ->
            citizen.subscribe(events).use {
                val dossiers = citizen.dossiers()
                dossiers.syncCatalogue()
                val procedure = dossiers.search("dang ky khai sinh", CatalogueFilter(), 0u, 20u).hits
                    .mapNotNull { dossiers.procedure(it.code) }
                    .first { p -> p.form.any { it.id == "ho_ten_tre" } && p.attachments.any { it.kind == "to_khai" } }
                val draft = dossiers.createDraft(procedure.code)

                // Not valid yet: refused, nothing queued.
                val notValid = expectThrows<CitizenException.InvalidInput> {
                    runBlocking { dossiers.submit(draft.id, pin) }
                }
                assertEquals("not_valid", notValid.code)
                assertTrue(dossiers.submissions().isEmpty())

                // The PID offers what it knows; the citizen approves every claim.
                val offers = dossiers.prefillCandidates(draft.id)
                assertTrue("the PID fills the requester's name", offers.any { it.claim == "full_name" })
                val prefilled = dossiers.applyPrefill(draft.id, offers.map { it.claim })
                offers.forEach { assertEquals(it.value, prefilled.values[it.field]) }
                val rest = procedure.form.filter { it.id !in prefilled.values }.associate { it.id to sample(it) }
                dossiers.setFields(draft.id, rest)
                val declaration = pdf(300_000)
                dossiers.addAttachmentBytes(draft.id, "to_khai", declaration)
                procedure.attachments.filter { it.minCount > 0u && it.kind != "to_khai" }.forEach { rule ->
                    dossiers.addAttachmentBytes(draft.id, rule.kind, pdf(20_000))
                }
                assertEquals(emptyList<FieldError>(), dossiers.validateDraft(draft.id))
                val attachments = dossiers.attachments(draft.id).size

                // A wrong PIN signs nothing and queues nothing.
                expectThrows<CitizenException.WrongPin> {
                    runBlocking { dossiers.submit(draft.id, "000000") }
                }
                assertTrue(dossiers.submissions().isEmpty())

                // The portal is down (503 to every upload and dossier): filed all the same, it waits.
                SandboxAdmin.setFaults(errorRate = 1.0)
                val filed = try {
                    val filed = dossiers.submit(draft.id, pin)
                    assertEquals(DeliveryState.QUEUED, filed.state)
                    assertEquals(procedure.code, filed.procedureCode)
                    assertEquals(attachments.toUInt(), filed.attachments)
                    val report = dossiers.sendQueued(2_000u)
                    assertEquals(0u, report.delivered)
                    val waiting = dossiers.submission(filed.id)!!
                    assertEquals(DeliveryState.QUEUED, waiting.state)
                    assertTrue("attempts: ${waiting.attempts}", waiting.attempts >= 1u)
                    assertEquals(null, waiting.receiptCode)
                    assertFalse(SandboxAdmin.dossierKeys().contains(filed.dossierId))
                    filed
                } finally {
                    SandboxAdmin.setFaults(errorRate = 0.0)
                }

                // Back online: woken, the sender delivers it.
                dossiers.wakeSender()
                val states = mutableListOf<DeliveryState>()
                val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
                while (states.lastOrNull() != DeliveryState.RECEIVED) {
                    val left = TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime())
                    if (left <= 0) throw AssertionError("not received within 60 s; states $states")
                    val event = events.next(maxOf(1L, left)) ?: continue
                    if (event is Event.DossierDeliveryChanged && event.submissionId == filed.id) states.add(event.state)
                }
                assertEquals(DeliveryState.QUEUED, states.first())
                assertFalse(states.contains(DeliveryState.PARKED))

                val received = dossiers.submission(filed.id)!!
                assertEquals(DeliveryState.RECEIVED, received.state)
                val receipt = received.receiptCode!!
                assertTrue(receipt, receipt.startsWith("HS-"))
                assertEquals("received", received.portalStatus)
                assertNotNull(received.receivedAt)

                // The portal holds exactly one dossier under that key, with that receipt.
                val atPortal = SandboxAdmin.dossiers().filter { it.idempotencyKey == filed.dossierId }
                assertEquals(1, atPortal.size)
                assertEquals(receipt, atPortal[0].receiptCode)
                assertEquals(procedure.code, atPortal[0].procedureCode)
                assertEquals(attachments, atPortal[0].attachments)
                assertEquals("received", atPortal[0].status)

                // The draft is locked now; sending again sends nothing.
                assertEquals(DraftState.SUBMITTED, dossiers.draft(draft.id)!!.state)
                assertEquals(0uL, dossiers.sendQueued(2_000u).pending)
                assertEquals(1, SandboxAdmin.dossiers().count { it.idempotencyKey == filed.dossierId })
            }
        }
    }
}
