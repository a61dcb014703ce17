// Routing a scanned code, and the fee QR, through the generated bindings: classify() tells an app
// which screen a text belongs to without trusting it; a VietQR made for a fee reads back, and a
// tampered one is refused with a machine-readable code.
package org.citizen.sdk

import org.junit.Assert.assertEquals
import org.junit.Test

class ScanTest {
    @Test
    fun classifyRoutesEachKindOfCode() {
        val link = "openid4vp://?client_id=rp.sandbox.example&request_uri=https%3A%2F%2Frp.sandbox.example%2Fr%2F1"
        assertEquals(ScannedKind.PresentationRequest("rp.sandbox.example"), classify(link))
        assertEquals(ScannedKind.IdentityQr, classify("ID1:6BFOXN*TS0BI\$ZD"))
        assertEquals(ScannedKind.WebLink("https://example.org/"), classify("https://example.org/"))
        assertEquals(ScannedKind.Unknown, classify("http://example.org/"))
        assertEquals(ScannedKind.Unknown, classify("ID1:not base45"))
    }

    @Test
    fun theFeeQrRendersThroughTheOneRenderFunction() {
        val text = vietqrPaymentRequest("970436", "0011001234567", 50_000uL, "H29-0001")
        val screen = renderQr(text, QrErrorCorrection.MEDIUM)
        val printed = renderQr(text, QrErrorCorrection.HIGH)
        assertEquals(screen.width.toInt() * screen.width.toInt(), screen.modules.size)
        assertEquals(true, printed.width > screen.width)
        assertEquals(true, screen.svg.startsWith("<svg"))
        expectThrows<CitizenException.InvalidInput> { renderQr("A".repeat(5_000), QrErrorCorrection.LOW) }
    }

    @Test
    fun aFeeVietQrReadsBackAndATamperedOneIsRefused() {
        val text = vietqrPaymentRequest("970436", "0011001234567", 50_000uL, "H29-0001")
        assertEquals(ScannedKind.Payment, classify(text))
        val read = parseVietqr(text)
        assertEquals(true, read.dynamic)
        assertEquals("970436", read.bankBin)
        assertEquals("0011001234567", read.account)
        assertEquals(50_000uL, read.amount)
        assertEquals("H29-0001", read.purpose)

        val tampered = text.replace("50000", "90000")
        val refused = expectThrows<CitizenException.InvalidInput> { parseVietqr(tampered) }
        assertEquals("vietqr", refused.field)
        assertEquals("crc_mismatch", refused.code)
    }
}
