// Conveniences for embedding the SDK in an Android app: where the store lives, which sealer and
// log sink to use. Everything here is optional; the generated API (`Citizen.open`, `initLogging`,
// `wipeDataDir`) can be called directly.
//
// Owns: the default data directory and the default wiring. Does not own behaviour: each function
// calls the generated bindings once.
package org.citizen.sdk.shell

import android.content.Context
import java.io.File
import org.citizen.sdk.Citizen
import org.citizen.sdk.CitizenConfig
import org.citizen.sdk.LogLevel
import org.citizen.sdk.PlatformServices
import org.citizen.sdk.SecretSealer
import org.citizen.sdk.initLogging
import org.citizen.sdk.wipeDataDir

object CitizenSdk {
    /** Folder name of the store inside the app's no-backup directory. */
    const val DATA_DIR_NAME = "citizen-sdk"

    /**
     * The store's folder: inside `noBackupFilesDir` because a backup would be useless and harmful.
     * The sealing key never leaves the device's Keystore, so a store restored onto another phone
     * (or after a reinstall) could never be opened and would only fail with WrongKey.
     */
    fun dataDir(context: Context): File = File(context.noBackupFilesDir, DATA_DIR_NAME)

    /**
     * Opens the citizen's store with the Keystore sealer. [portalSpkiPins] are `sha256/<base64>`
     * pins of the portal's public keys; give at least two (current and next key) so a key rotation
     * on the server does not lock the app out. Throws `CitizenException`.
     */
    @JvmStatic
    @JvmOverloads
    fun open(
        context: Context,
        portalBaseUrl: String,
        portalSpkiPins: List<String>,
        trustedRootsPem: List<String> = emptyList(),
        sealer: SecretSealer = KeystoreSecretSealer(),
    ): Citizen = openIn(dataDir(context), portalBaseUrl, portalSpkiPins, trustedRootsPem, sealer)

    /** [open] with an explicit folder, created if missing. */
    @JvmStatic
    @JvmOverloads
    fun openIn(
        dataDir: File,
        portalBaseUrl: String,
        portalSpkiPins: List<String>,
        trustedRootsPem: List<String> = emptyList(),
        sealer: SecretSealer = KeystoreSecretSealer(),
    ): Citizen {
        dataDir.mkdirs()
        val config = CitizenConfig(
            dataDir = dataDir.path,
            portalBaseUrl = portalBaseUrl,
            trustedRootsPem = trustedRootsPem,
            portalSpkiPins = portalSpkiPins,
        )
        return Citizen.open(config, PlatformServices(sealer))
    }

    /**
     * Deletes the store and its Keystore key without opening it: the way out when [open] fails
     * with `CitizenException.WrongKey` (the key was invalidated). Everything stored is lost.
     */
    @JvmStatic
    @JvmOverloads
    fun wipe(context: Context, sealer: SecretSealer = KeystoreSecretSealer()) {
        wipeDataDir(dataDir(context).path, PlatformServices(sealer))
    }

    /** Sends the SDK's log lines at [level] and above to logcat. */
    @JvmStatic
    @JvmOverloads
    fun enableLogcat(level: LogLevel = LogLevel.INFO) {
        initLogging(level, LogcatLogSink())
    }
}
