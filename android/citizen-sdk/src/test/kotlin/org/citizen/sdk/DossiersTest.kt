// Dossiers as a Kotlin app sees them: the procedure catalogue synced from the sandbox, found
// offline in any Vietnamese spelling, its whole record, a level filter, a second sync that finds
// nothing new, and an out-of-range page size as a typed exception.
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
}
