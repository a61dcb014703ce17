// Where the Android Keystore keeps a key: the one rule both Keystore services (the sealer and the
// key store) use to answer isHardwareBacked.
package org.citizen.sdk.shell

import android.os.Build
import android.security.keystore.KeyInfo
import android.security.keystore.KeyProperties

/** The Keystore provider name. */
internal const val ANDROID_KEYSTORE = "AndroidKeyStore"

/**
 * Whether [info] says the key lives in a TEE or StrongBox. `SECURITY_LEVEL_UNKNOWN_SECURE` counts:
 * Android documents it as at least a trusted environment (said when the app's target API level
 * keeps the Keystore from being more precise). SOFTWARE, UNKNOWN, and any level added later that we
 * cannot vouch for do not.
 */
@Suppress("DEPRECATION") // KeyInfo.isInsideSecureHardware: the only API below 31.
internal fun isInSecureHardware(info: KeyInfo): Boolean =
    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
        when (info.securityLevel) {
            KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT,
            KeyProperties.SECURITY_LEVEL_STRONGBOX,
            KeyProperties.SECURITY_LEVEL_UNKNOWN_SECURE,
            -> true
            else -> false
        }
    } else {
        info.isInsideSecureHardware
    }
