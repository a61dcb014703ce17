// Dossiers as a Kotlin app sees them: the procedure catalogue synced from the sandbox, found
// offline in any Vietnamese spelling, its whole record, a level filter, a second sync that finds
// nothing new, and an out-of-range page size as a typed exception. Then a draft: fields saved,
// validated with field-level codes, a PDF attached, a file lying about its type refused, and the
// draft deleted with its attachments.
package org.citizen.sdk

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

class DossiersTest {
    @get:Rule
    val temp = TemporaryFolder()

    @Test
    fun theCatalogueSyncsAndIsFoundOfflineInAnySpelling(): Unit = runBlocking {
        val config = Sandbox.get().config(temp.newFolder("data"))
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("sealer.key")))).use { citizen ->
            val dossiers = citizen.dossiers()
            val sync = dossiers.syncCatalogue()
            assertTrue("${sync.procedures} procedures", sync.procedures >= 7_000uL)
            assertTrue(sync.complete)

            val firsts = listOf("dang ky khai sinh", "Đăng ký khai sinh", "đăng ky khai sinh").map {
                dossiers.search(it, CatalogueFilter(), 0u, 10u).hits.first()
            }
            assertEquals("the three spellings find the same procedure first", 1, firsts.distinct().size)
            assertEquals("Đăng ký khai sinh", firsts[0].name)

            val record = dossiers.procedure(firsts[0].code)!!
            assertTrue(record.form.any { it.kind == FieldKind.ID_NUMBER && it.required })
            assertTrue(record.attachments.isNotEmpty())
            assertEquals(null, dossiers.procedure("no.such.code"))

            val central = dossiers.search("ho chieu", CatalogueFilter(level = ProcedureLevel.CENTRAL), 0u, 20u)
            assertTrue(central.hits.isNotEmpty())
            assertTrue(central.hits.all { it.level == ProcedureLevel.CENTRAL })
            assertTrue(dossiers.agencies(ProcedureLevel.COMMUNE).size > 100)

            assertTrue("nothing new: 304", dossiers.syncCatalogue().notModified)

            val error = expectThrows<CitizenException.InvalidInput> {
                runBlocking { dossiers.search("khai sinh", CatalogueFilter(), 0u, 0u) }
            }
            assertEquals("page_size", error.field)
            assertEquals("out_of_range", error.code)
        }
    }

    @Test
    fun aDraftIsFilledValidatedAndGetsAnAttachment(): Unit = runBlocking {
        val config = Sandbox.get().config(temp.newFolder("drafts"))
        Citizen.open(config, PlatformServices(fileSealer(temp.root.resolve("drafts-sealer.key")))).use { citizen ->
            val dossiers = citizen.dossiers()
            dossiers.syncCatalogue()
            val code = dossiers.search("dang ky khai sinh", CatalogueFilter(), 0u, 10u).hits.first().code
            val draft = dossiers.createDraft(code)
            assertEquals(DraftState.EDITING, draft.state)
            assertTrue(draft.values.isEmpty())

            val saved = dossiers.setFields(draft.id, mapOf("ho_ten" to "Nguyễn Văn An", "so_dien_thoai" to "0112345678"))
            assertEquals("Nguyễn Văn An", saved.values["ho_ten"])
            val errors = dossiers.validateDraft(draft.id)
            val phone = errors.first { it.field == "so_dien_thoai" }
            assertEquals("invalid_phone", phone.code)
            assertEquals("dossier.field.invalid_phone", phone.messageKey)
            assertTrue(errors.any { it.field == "so_dinh_danh" && it.code == "required" })
            assertTrue(errors.any { it.field == "to_khai" && it.code == "attachment_missing" })

            val unknown = expectThrows<CitizenException.InvalidInput> {
                runBlocking { dossiers.setField(draft.id, "ten_doanh_nghiep", "x") }
            }
            assertEquals("unknown_field", unknown.code)

            val pdf = "%PDF-1.7\n".toByteArray() + ByteArray(300_000) { (it % 251).toByte() }
            val attached = dossiers.addAttachmentBytes(draft.id, "to_khai", pdf)
            assertEquals("application/pdf", attached.mediaType)
            assertEquals(pdf.size.toULong(), attached.size)
            assertEquals(64, attached.sha256.length)
            assertEquals(listOf(attached), dossiers.attachments(draft.id))
            assertTrue(dossiers.validateDraft(draft.id).none { it.field == "to_khai" })

            val liar = temp.newFile("scan.pdf")
            liar.writeBytes(byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3))
            val refused = expectThrows<CitizenException.InvalidInput> {
                runBlocking { dossiers.addAttachmentFile(draft.id, "to_khai", liar.path) }
            }
            assertEquals("type_not_allowed", refused.code)

            assertEquals(1, dossiers.drafts().size)
            assertTrue(dossiers.deleteDraft(draft.id))
            assertTrue(dossiers.attachments(draft.id).isEmpty())
            assertEquals(null, dossiers.draft(draft.id))
        }
    }
}
