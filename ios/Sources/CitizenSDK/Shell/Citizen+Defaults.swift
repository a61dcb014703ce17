// Conveniences for embedding the SDK in an iOS app: where the store lives, which sealer, key store
// and log sink to use. Everything here is optional; the generated API (`Citizen.open`,
// `initLogging`, `wipeDataDir`) can be called directly. Opening and wiping touch the disk and the
// keychain, so they are `async`, like the generated functions they call.
//
// Owns: the default data directory and its file attributes, and the default wiring. Does not own
// behaviour: each function calls the generated bindings once.

import Foundation

extension Citizen {
    /// Application Support/CitizenSDK, created on first use, excluded from backups and protected
    /// until the first unlock after a reboot.
    ///
    /// Excluded from backups because a backup would be useless and harmful: the sealing key never
    /// leaves this device's Secure Enclave, so a restored store could never be opened and would
    /// only fail with `CitizenError.WrongKey`. `completeUntilFirstUserAuthentication` matches the
    /// sealing key's accessibility, so background work can still open the store when locked.
    public static func defaultDataDirectory() throws -> URL {
        var url = try FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
        ).appendingPathComponent("CitizenSDK", isDirectory: true)
        try FileManager.default.createDirectory(
            at: url,
            withIntermediateDirectories: true,
            attributes: [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication]
        )
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try url.setResourceValues(values)
        return url
    }

    /// Opens the citizen's store in `defaultDataDirectory()` with the Secure Enclave sealer.
    /// `portalSpkiPins` are `sha256/<base64>` pins of the portal's public keys; give at least two
    /// (current and next key) so a key rotation on the server does not lock the app out. Pinning is
    /// required: with no pins the open fails with `CitizenError.InvalidInput`, unless
    /// `allowUnpinned` is true (a development setup only, which the SDK logs as a warning).
    /// `originPins` pin other origins the SDK talks to.
    ///
    /// `keyStore` holds the wallet's device keys (default: the Secure Enclave); nothing touches it
    /// until the wallet makes a key. Pass nil for an app without the wallet.
    ///
    /// The default sealer and key store refuse to work without a Secure Enclave (the simulator):
    /// pass `SecureEnclaveSealer(allowSoftwareFallback: true)` and
    /// `SecureEnclaveKeyStore(allowSoftwareFallback: true)` to accept software keys there.
    /// Only one `Citizen` may be open per data directory: a second open fails with
    /// `CitizenError.InUse` until the first is released.
    public static func openDefault(
        portalBaseUrl: String,
        portalSpkiPins: [String],
        trustedRootsPem: [String] = [],
        sealer: SecretSealer = SecureEnclaveSealer(),
        originPins: [OriginPins] = [],
        allowUnpinned: Bool = false,
        keyStore: KeyStore? = SecureEnclaveKeyStore(),
        trustAnchors: [TrustAnchor] = []
    ) async throws -> Citizen {
        let config = CitizenConfig(
            dataDir: try defaultDataDirectory().path,
            portalBaseUrl: portalBaseUrl,
            trustedRootsPem: trustedRootsPem,
            portalSpkiPins: portalSpkiPins,
            originPins: originPins,
            allowUnpinned: allowUnpinned,
            trustAnchors: trustAnchors
        )
        return try await Citizen.open(
            config: config, platform: PlatformServices(sealer: sealer, keyStore: keyStore)
        )
    }

    /// Deletes the default store and its Secure Enclave key without opening it: the way out when
    /// `openDefault` fails with `CitizenError.WrongKey`. Everything stored is lost. Fails with
    /// `CitizenError.InUse` while a `Citizen` on that folder is open.
    public static func wipeDefault(sealer: SecretSealer = SecureEnclaveSealer()) async throws {
        try await wipeDataDir(dataDir: try defaultDataDirectory().path, platform: PlatformServices(sealer: sealer))
    }

    /// Sends the SDK's log lines at `level` and above to os_log.
    public static func enableOSLog(level: LogLevel = .info) {
        initLogging(level: level, sink: OSLogSink())
    }
}
