// The iOS KeyStore (the wallet's device keys): P-256 signing keys created in the Secure Enclave,
// whose private halves never leave it.
//
// Owns: creating, finding and deleting those keys under keychain application tags (prefix +
// alias), their access control (`.privateKeyUsage`, plus `.userPresence` when the policy asks),
// signing (ECDSA P-256 with SHA-256, X9.62 DER: the Rust core normalises it to raw r||s), the public
// key as SEC1 uncompressed bytes, and turning Security-framework errors into PlatformError kinds
// (the same mapping as SecureEnclaveSealer). Does not own which keys exist or what they sign (the
// Rust core's wallet decides).
//
// No Secure Enclave (the simulator): the key store refuses to make keys or sign, with a
// PlatformError.Failure, rather than silently hold the citizen's device key in software. An app may
// opt in with `allowSoftwareFallback: true` (for the simulator, say); keys are then ordinary
// keychain keys, and `isHardwareBacked(alias:)` says false for them.

import CryptoKit
import Foundation
import Security

public final class SecureEnclaveKeyStore: KeyStore, @unchecked Sendable {
    /// Prefixed to every alias to make the keychain tag, so the SDK's keys never meet the app's own.
    public static let defaultTagPrefix = "org.citizen.sdk.device-key."

    /// Whether this device has a Secure Enclave (false on the simulator). Without one the key store
    /// works only when created with `allowSoftwareFallback: true`.
    public static var usesSecureEnclave: Bool { SecureEnclave.isAvailable }

    /// The `PlatformError.Failure` detail when there is no Secure Enclave and no opt-in: the same
    /// fixed English text as the sealer's, so it reaches the app's `CitizenError` detail unchanged.
    public static let noSecureEnclaveDetail = SecureEnclaveSealer.noSecureEnclaveDetail

    private static let algorithm = SecKeyAlgorithm.ecdsaSignatureMessageX962SHA256
    private static let publicKeyLength = 65

    private let tagPrefix: String
    private let allowSoftwareFallback: Bool
    // Serialises find-then-create so two generations cannot both make a key under one tag.
    private let lock = NSLock()

    /// - Parameters:
    ///   - tagPrefix: prefixed to each alias to make the key's keychain application tag.
    ///   - allowSoftwareFallback: on a device without a Secure Enclave (the simulator), make
    ///     ordinary keychain keys instead of failing. Off by default: a software key protects the
    ///     citizen's identity far less, and the app must choose that knowingly (e.g. only in
    ///     simulator builds).
    public init(
        tagPrefix: String = SecureEnclaveKeyStore.defaultTagPrefix,
        allowSoftwareFallback: Bool = false
    ) {
        self.tagPrefix = tagPrefix
        self.allowSoftwareFallback = allowSoftwareFallback
    }

    /// Makes a new key under `alias` and returns its public key (65 bytes, `0x04 || x || y`).
    /// Fails with `PlatformError.Failure` when `alias` already has a key: a key is never replaced
    /// silently. With `policy.userAuthenticationRequired`, every signature asks for Face ID,
    /// Touch ID or the passcode (the system shows the prompt; cancelling gives
    /// `AuthenticationRequired`).
    public func generateKey(alias: String, policy: KeyPolicy) throws -> Data {
        try requireSecureEnclaveOrOptIn()
        let privateKey: SecKey = try locked {
            let existing = try findKey(alias: alias)
            if existing != nil {
                throw SecureEnclaveSealer.failure("could not generate a key: a key with this alias exists")
            }
            return try createKey(alias: alias, policy: policy)
        }
        return try publicKeyBytes(of: privateKey)
    }

    /// The public key under `alias` (65 bytes, `0x04 || x || y`), or nil when there is none.
    public func publicKey(alias: String) throws -> Data? {
        guard let privateKey = try locked({ try findKey(alias: alias) }) else {
            return nil
        }
        return try publicKeyBytes(of: privateKey)
    }

    /// ECDSA P-256 over the SHA-256 of `message`, as X9.62 DER. Computed inside the Secure Enclave.
    public func sign(alias: String, message: Data) throws -> Data {
        try requireSecureEnclaveOrOptIn()
        guard let privateKey = try locked({ try findKey(alias: alias) }) else {
            throw PlatformError.KeyUnavailable
        }
        var error: Unmanaged<CFError>?
        guard let signature = SecKeyCreateSignature(
            privateKey, Self.algorithm, message as CFData, &error
        ) as Data? else {
            throw SecureEnclaveSealer.platformError(error, while: "sign")
        }
        return signature
    }

    /// Deletes the key under `alias`; succeeds when there is none. Works with or without a Secure
    /// Enclave, so a software key made under the opt-in can always be removed.
    public func deleteKey(alias: String) throws {
        try locked {
            let status = SecItemDelete(keyQuery(alias: alias) as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw SecureEnclaveSealer.platformError(status: status, while: "delete the key")
            }
        }
    }

    /// Whether the key under `alias` lives in the Secure Enclave, as the keychain records it (its
    /// token id). `KeyUnavailable` when there is no such key; false for a software key (the opt-in
    /// fallback): never claims protection that is not known to be there.
    public func isHardwareBacked(alias: String) throws -> Bool {
        var query = keyQuery(alias: alias)
        query[kSecReturnAttributes as String] = true
        var item: CFTypeRef?
        let status = locked { SecItemCopyMatching(query as CFDictionary, &item) }
        guard status == errSecSuccess else {
            // errSecItemNotFound becomes KeyUnavailable.
            throw SecureEnclaveSealer.platformError(status: status, while: "read the attributes of the key")
        }
        guard let attributes = item as? [String: Any] else {
            return false
        }
        let tokenID = attributes[kSecAttrTokenID as String] as? String
        return tokenID == (kSecAttrTokenIDSecureEnclave as String)
    }

    private func requireSecureEnclaveOrOptIn() throws {
        guard Self.usesSecureEnclave || allowSoftwareFallback else {
            throw SecureEnclaveSealer.failure(Self.noSecureEnclaveDetail)
        }
    }

    // MARK: - The keys

    private func tag(_ alias: String) -> Data {
        Data((tagPrefix + alias).utf8)
    }

    private func keyQuery(alias: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassKey,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeyClass as String: kSecAttrKeyClassPrivate,
            kSecAttrApplicationTag as String: tag(alias),
        ]
    }

    private func findKey(alias: String) throws -> SecKey? {
        var query = keyQuery(alias: alias)
        query[kSecReturnRef as String] = true
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            // A query for kSecClassKey with kSecReturnRef returns a SecKey.
            return (item as! SecKey)
        case errSecItemNotFound:
            return nil
        default:
            throw SecureEnclaveSealer.platformError(status: status, while: "find the key")
        }
    }

    private func createKey(alias: String, policy: KeyPolicy) throws -> SecKey {
        var flags: SecAccessControlCreateFlags = []
        if Self.usesSecureEnclave {
            // The private key can only be used (to sign) inside the Secure Enclave.
            flags.insert(.privateKeyUsage)
        }
        if policy.userAuthenticationRequired {
            // Face ID, Touch ID or the passcode, for every signature.
            flags.insert(.userPresence)
        }
        // AfterFirstUnlock, like the sealer: usable by background work once the phone was unlocked
        // after a reboot. ThisDeviceOnly: never in a backup or on another device.
        var accessError: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            kCFAllocatorDefault, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, flags, &accessError
        ) else {
            throw SecureEnclaveSealer.platformError(accessError, while: "create the access control of the key")
        }
        var attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag(alias),
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        if Self.usesSecureEnclave {
            attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave
        }
        var error: Unmanaged<CFError>?
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw SecureEnclaveSealer.platformError(error, while: "create the key")
        }
        return key
    }

    /// The SEC1 uncompressed point: what `SecKeyCopyExternalRepresentation` gives for a P-256
    /// public key. Checked, so a surprise never reaches the core as a malformed key.
    private func publicKeyBytes(of privateKey: SecKey) throws -> Data {
        guard let publicKey = SecKeyCopyPublicKey(privateKey) else {
            throw SecureEnclaveSealer.failure("the key has no public key")
        }
        var error: Unmanaged<CFError>?
        guard let bytes = SecKeyCopyExternalRepresentation(publicKey, &error) as Data? else {
            throw SecureEnclaveSealer.platformError(error, while: "read the public key")
        }
        guard bytes.count == Self.publicKeyLength, bytes.first == 0x04 else {
            throw SecureEnclaveSealer.failure("the public key is not an uncompressed point on the expected curve")
        }
        return bytes
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
