// How the Android shell's platform services report failures to the Rust core: one mapping from
// Java/Android exceptions to PlatformException, shared by the sealer and the key store.
//
// Owns: which exceptions mean a key is gone (KeyUnavailable), needs the user (AuthenticationRequired)
// or may work later (TemporarilyUnavailable), and the fixed failure text for everything else.
// Does not own the services themselves.
package org.citizen.sdk.shell

import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.UserNotAuthenticatedException
import java.security.UnrecoverableKeyException
import javax.crypto.AEADBadTagException
import org.citizen.sdk.PlatformException

/**
 * Runs [block], turning every exception into a PlatformException. Messages name the operation
 * and the exception class only: platform messages are not ours to vouch for, and nothing may leak
 * key material or data into logs (the core withholds any text that is not plain wording anyway).
 */
internal inline fun <T> mapPlatformExceptions(operation: String, block: () -> T): T =
    try {
        block()
    } catch (e: PlatformException) {
        throw e
    } catch (e: KeyPermanentlyInvalidatedException) {
        // The lock screen was removed or a biometric was enrolled: this key is gone for good.
        throw PlatformException.KeyUnavailable()
    } catch (e: UnrecoverableKeyException) {
        // Often passing: the keystore daemon restarting, or a key that needs the device unlocked.
        // Retryable, so the app does not offer to wipe what may work later.
        throw PlatformException.TemporarilyUnavailable()
    } catch (e: AEADBadTagException) {
        // Sealed under another key (e.g. one deleted and re-created since): unrecoverable.
        throw PlatformException.KeyUnavailable()
    } catch (e: UserNotAuthenticatedException) {
        throw PlatformException.AuthenticationRequired()
    } catch (e: Exception) {
        throw PlatformException.Failure("could not $operation: ${plainName(e)}")
    }

/** The exception's class name if it is plain letters (so the core keeps the text), else a stand-in. */
internal fun plainName(e: Exception): String {
    val name = e.javaClass.simpleName
    val plain = name.isNotEmpty() && name.all { it in 'a'..'z' || it in 'A'..'Z' || it == '_' }
    return if (plain) name else "an unnamed exception"
}
