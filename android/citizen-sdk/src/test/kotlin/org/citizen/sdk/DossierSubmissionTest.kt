// Filing a dossier as a Kotlin app does, through the generated bindings against the real sandbox
// portal: an activated wallet, the catalogue synced, a birth registration found without
// diacritics, a draft pre-filled from the PID (the citizen approves the claims), the rest filled,
// a PDF attached and validated; a draft that does not validate and a wrong PIN are refused and
// queue nothing; submitted with the PIN while the portal answers 503 it waits Queued, and once the
// portal is back it is Received with a receipt code, which the portal confirms: exactly one
// dossier under that idempotency key. Then what becomes of a dossier: a supplement answered, a fee
// paid by VietQR, Completed; and a withdrawal.
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

    /** Syncs the catalogue and finds a birth registration without diacritics. */
    private suspend fun birthRegistration(dossiers: Dossiers): Procedure {
        dossiers.syncCatalogue()
        return dossiers.search("dang ky khai sinh", CatalogueFilter(), 0u, 20u).hits
            .mapNotNull { dossiers.procedure(it.code) }
            .first { p -> p.form.any { it.id == "ho_ten_tre" } && p.attachments.any { it.kind == "to_khai" } }
    }

    /** A document [rule] accepts: a PDF where it may be one, else a JPEG. */
    private fun document(rule: AttachmentRule, size: Int): ByteArray =
        if ("application/pdf" in rule.mediaTypes) pdf(size)
        else byteArrayOf(0xFF.toByte(), 0xD8.toByte(), 0xFF.toByte(), 0xE0.toByte()) + ByteArray(size - 4) { 3 }

    /**
     * Fills [draft] in as a citizen does: the PID's offers approved, every other field of
     * [procedure] given a value, a 300 KB declaration and every required document attached; it
     * then validates.
     */
    private suspend fun fillIn(dossiers: Dossiers, draft: Draft, procedure: Procedure) {
        // The PID offers what it knows; the citizen approves every claim.
        val offers = dossiers.prefillCandidates(draft.id)
        assertTrue("the PID fills the requester's name", offers.any { it.claim == "full_name" })
        val prefilled = dossiers.applyPrefill(draft.id, offers.map { it.claim })
        offers.forEach { assertEquals(it.value, prefilled.values[it.field]) }
        val rest = procedure.form.filter { it.id !in prefilled.values }.associate { it.id to sample(it) }
        dossiers.setFields(draft.id, rest)
        dossiers.addAttachmentBytes(draft.id, "to_khai", pdf(300_000))
        procedure.attachments.filter { it.minCount > 0u && it.kind != "to_khai" }.forEach { rule ->
            dossiers.addAttachmentBytes(draft.id, rule.kind, document(rule, 20_000))
        }
        assertEquals(emptyList<FieldError>(), dossiers.validateDraft(draft.id))
    }

    /** Syncs statuses until filed dossier [id] is [status] (60 s at most), waking the sender meanwhile. */
    private suspend fun awaitStatus(dossiers: Dossiers, id: Long, status: TrackingStatus): Submission {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
        while (true) {
            dossiers.wakeSender()
            dossiers.syncStatuses()
            val now = dossiers.submission(id)!!
            if (now.status == status) return now
            if (System.nanoTime() > deadline) throw AssertionError("not $status within 60 s: ${now.status}")
            kotlinx.coroutines.delay(100)
        }
    }

    /**
     * The whole journey after filing: the clerk asks for a supplement, which the citizen answers
     * through a supplement draft signed with the PIN; the result is ready with a fee, whose VietQR
     * reads back strictly and is paid at the sandbox bank; the portal confirms the payment and the
     * dossier is Completed, with every step in its timeline and announced by events.
     */
    @Test
    fun aDossierGoesThroughASupplementAndAFeeToCompleted(): Unit = runBlocking {
        SandboxAdmin.setClerk(paceMs = 150, supplement = "once")
        val events = EventRecorder()
        try {
            activated(temp.newFolder("journey")).use { citizen ->
                citizen.subscribe(events).use {
                    val dossiers = citizen.dossiers()
                    val procedure = birthRegistration(dossiers)
                    val draft = dossiers.createDraft(procedure.code)
                    fillIn(dossiers, draft, procedure)
                    val filed = dossiers.submit(draft.id, pin)

                    // The agency asks for more.
                    val asked = awaitStatus(dossiers, filed.id, TrackingStatus.SUPPLEMENT_REQUESTED)
                    val receipt = asked.receiptCode!!
                    val request = asked.supplementRequest!!
                    assertTrue(request.items.isNotEmpty())
                    val supplement = dossiers.startSupplement(filed.id)
                    assertEquals(filed.id, supplement.supplementOf)
                    assertEquals("the same draft while it is edited", supplement.id, dossiers.startSupplement(filed.id).id)
                    val form = dossiers.draftProcedure(supplement.id)!!
                    assertEquals(request.items.filterIsInstance<SupplementItem.Field>().map { it.fieldId }, form.form.map { it.id })
                    // Unanswered, it does not validate.
                    assertTrue(dossiers.validateDraft(supplement.id).isNotEmpty())
                    dossiers.setFields(supplement.id, form.form.associate { it.id to sample(it) })
                    form.attachments.forEach { dossiers.addAttachmentBytes(supplement.id, it.kind, document(it, 30_000)) }
                    assertEquals(emptyList<FieldError>(), dossiers.validateDraft(supplement.id))
                    dossiers.submit(supplement.id, pin)
                    assertEquals("answered", null, dossiers.submission(filed.id)!!.supplementRequest)
                    assertEquals("a supplement is not a dossier of its own", 1, dossiers.submissions().size)

                    // The result is ready: a fee, paid by VietQR at the sandbox bank.
                    awaitStatus(dossiers, filed.id, TrackingStatus.RESULT_READY)
                    val fee = dossiers.fees(filed.id).single()
                    assertEquals(FeeState.DUE, fee.state)
                    assertEquals(receipt, fee.reference)
                    assertTrue(fee.amount > 0uL)
                    val code = dossiers.feePaymentCode(filed.id, fee.feeId)
                    val scanned = parseVietqr(code.text)
                    assertEquals(fee.amount, scanned.amount)
                    assertEquals(receipt, scanned.purpose)
                    assertEquals(fee.bankBin, scanned.bankBin)
                    assertTrue(code.image.svg.contains("<svg"))
                    assertEquals(code.image.width.toInt() * code.image.width.toInt(), code.image.modules.size)
                    val transaction = SandboxAdmin.pay(code.text)

                    val done = awaitStatus(dossiers, filed.id, TrackingStatus.COMPLETED)
                    assertEquals(receipt, done.receiptCode)
                    val paid = dossiers.fees(filed.id).single()
                    assertEquals(FeeState.PAID, paid.state)
                    val payment = paid.payment ?: throw AssertionError("a paid fee carries the bank's receipt")
                    assertEquals(transaction, payment.transactionId)
                    assertEquals(fee.amount, payment.amount)
                    val steps = dossiers.timeline(filed.id).map { it.event }
                    for (step in listOf("submitted", "received", "supplement_requested", "supplement_sent", "fee_paid", "completed")) {
                        assertTrue("$step in $steps", step in steps)
                    }
                    val seen = events.drain()
                    assertTrue(seen.any { it is Event.DossierStatusChanged && it.submissionId == filed.id && it.status == TrackingStatus.COMPLETED })
                    assertTrue(seen.any { it is Event.DossierFeeChanged && it.feeId == fee.feeId && it.state == FeeState.PAID })

                    // A completed dossier cannot be withdrawn.
                    val refused = expectThrows<CitizenException.InvalidState> {
                        runBlocking { dossiers.withdraw(filed.id, null, pin) }
                    }
                    assertEquals("not_withdrawable", refused.code)
                }
            }
        } finally {
            SandboxAdmin.setClerk(paceMs = 1500, supplement = "once")
        }
    }

    /** A dossier withdrawn by a signed request: queued, sent, then Withdrawn by the agency. */
    @Test
    fun aWithdrawalIsSignedSentAndActedOn(): Unit = runBlocking {
        SandboxAdmin.setClerk(paceMs = 150, supplement = "once")
        try {
            activated(temp.newFolder("withdraw")).use { citizen ->
                val dossiers = citizen.dossiers()
                val procedure = birthRegistration(dossiers)
                val draft = dossiers.createDraft(procedure.code)
                fillIn(dossiers, draft, procedure)
                val filed = dossiers.submit(draft.id, pin)
                // Not before the portal has it.
                expectThrows<CitizenException.InvalidState> { runBlocking { dossiers.withdraw(filed.id, null, pin) } }
                awaitStatus(dossiers, filed.id, TrackingStatus.SUPPLEMENT_REQUESTED)
                expectThrows<CitizenException.WrongPin> { runBlocking { dossiers.withdraw(filed.id, null, "000000") } }
                val asked = dossiers.withdraw(filed.id, "Nộp nhầm thủ tục", pin)
                assertEquals(WithdrawalState.Queued, asked.withdrawal)
                val withdrawn = awaitStatus(dossiers, filed.id, TrackingStatus.WITHDRAWN)
                assertEquals(WithdrawalState.Sent, withdrawn.withdrawal)
                assertTrue("withdrawal_requested" in dossiers.timeline(filed.id).map { it.event })
            }
        } finally {
            SandboxAdmin.setClerk(paceMs = 1500, supplement = "once")
        }
    }

    @Test
    fun aDossierIsFiledQueuedOfflineAndReceivedOnceWithAReceipt(): Unit = runBlocking {
        val events = EventRecorder()
        activated(temp.newFolder("citizen")).use { citizen ->
            citizen.subscribe(events).use {
                val dossiers = citizen.dossiers()
                val procedure = birthRegistration(dossiers)
                val draft = dossiers.createDraft(procedure.code)

                // Not valid yet: refused, nothing queued.
                val notValid = expectThrows<CitizenException.InvalidInput> {
                    runBlocking { dossiers.submit(draft.id, pin) }
                }
                assertEquals("not_valid", notValid.code)
                assertTrue(dossiers.submissions().isEmpty())

                fillIn(dossiers, draft, procedure)
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
                // The sandbox clerk may have moved it on already.
                assertTrue(atPortal[0].status, atPortal[0].status in listOf("received", "processing", "supplement_requested"))

                // The draft is locked now; sending again sends nothing.
                assertEquals(DraftState.SUBMITTED, dossiers.draft(draft.id)!!.state)
                assertEquals(0uL, dossiers.sendQueued(2_000u).pending)
                assertEquals(1, SandboxAdmin.dossiers().count { it.idempotencyKey == filed.dossierId })
            }
        }
    }
}
