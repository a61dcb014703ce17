// Conveniences for embedding the SDK in an Android app: where the store lives, which sealer, key
// store and log sink to use. Everything here is optional; the generated API (`Citizen.open`,
// `initLogging`, `wipeDataDir`) can be called directly. Opening and wiping touch the disk and the
// Keystore, so they are `suspend` functions, like the generated ones they call: call them from a
// coroutine.
//
// Owns: the default data directory and the default wiring. Does not own behaviour: each function
// calls the generated bindings once.
package org.citizen.sdk.shell

import android.content.Context
import java.io.File
import org.citizen.sdk.Citizen
import org.citizen.sdk.CitizenConfig
import org.citizen.sdk.KeyStore
import org.citizen.sdk.LogLevel
import org.citizen.sdk.OriginPins
import org.citizen.sdk.PlatformServices
import org.citizen.sdk.SecretSealer
import org.citizen.sdk.TrustAnchor
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
     * on the server does not lock the app out. Pinning is required: with no pins the open fails
     * with `CitizenException.InvalidInput`, unless [allowUnpinned] is true (a development setup
     * only, which the SDK logs as a warning). [originPins] pin other origins the SDK talks to.
     *
     * [keyStore] holds the wallet's device keys (default: the Android Keystore, StrongBox where
     * the device has it); nothing touches it until the wallet makes a key. Pass null for an app
     * without the wallet. [trustAnchors] are the keys that may sign the portal's trust list (the
     * wallet and verifier mode need one; ship the next one before the portal switches to it).
     *
     * Only one `Citizen` may be open per data directory: a second open fails with
     * `CitizenException.InUse` until the first is closed. Throws `CitizenException`.
     */
    @JvmStatic
    @JvmOverloads
    suspend fun open(
        context: Context,
        portalBaseUrl: String,
        portalSpkiPins: List<String>,
        trustedRootsPem: List<String> = emptyList(),
        sealer: SecretSealer = KeystoreSecretSealer(),
        originPins: List<OriginPins> = emptyList(),
        allowUnpinned: Boolean = false,
        keyStore: KeyStore? = KeystoreKeyStore(),
        trustAnchors: List<TrustAnchor> = emptyList(),
    ): Citizen = openIn(
        dataDir(context),
        portalBaseUrl,
        portalSpkiPins,
        trustedRootsPem,
        sealer,
        originPins,
        allowUnpinned,
        keyStore,
        trustAnchors,
    )

    /** [open] with an explicit folder, created if missing. */
    @JvmStatic
    @JvmOverloads
    suspend fun openIn(
        dataDir: File,
        portalBaseUrl: String,
        portalSpkiPins: List<String>,
        trustedRootsPem: List<String> = emptyList(),
        sealer: SecretSealer = KeystoreSecretSealer(),
        originPins: List<OriginPins> = emptyList(),
        allowUnpinned: Boolean = false,
        keyStore: KeyStore? = KeystoreKeyStore(),
        trustAnchors: List<TrustAnchor> = emptyList(),
    ): Citizen {
        dataDir.mkdirs()
        val config = CitizenConfig(
            dataDir = dataDir.path,
            portalBaseUrl = portalBaseUrl,
            trustedRootsPem = trustedRootsPem,
            portalSpkiPins = portalSpkiPins,
            originPins = originPins,
            allowUnpinned = allowUnpinned,
            trustAnchors = trustAnchors,
        )
        return Citizen.open(config, PlatformServices(sealer, keyStore))
    }

    /**
     * Deletes the store and its Keystore key without opening it: the way out when [open] fails
     * with `CitizenException.WrongKey` (the key was invalidated). Everything stored is lost. Fails
     * with `CitizenException.InUse` while a `Citizen` on that folder is open: close it first.
     */
    @JvmStatic
    @JvmOverloads
    suspend fun wipe(context: Context, sealer: SecretSealer = KeystoreSecretSealer()) {
        wipeDataDir(dataDir(context).path, PlatformServices(sealer))
    }

    /** Sends the SDK's log lines at [level] and above to logcat. */
    @JvmStatic
    @JvmOverloads
    fun enableLogcat(level: LogLevel = LogLevel.INFO) {
        initLogging(level, LogcatLogSink())
    }
}
