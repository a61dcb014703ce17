// The iOS SecretSealer: seals the store's data key with a P-256 private key that lives in the
// Secure Enclave and never leaves it.
//
// Owns: creating, finding and deleting that key under a keychain tag, the sealed format, and
// turning Security-framework errors into the PlatformError kinds the Rust core acts on. Does not
// own what is sealed (the Rust core seals one random 32-byte key per data directory).
//
// Sealed format: version (1 byte) || key id (8 bytes: SHA-256 of the public key, truncated) ||
// ECIES ciphertext (`.eciesEncryptionCofactorVariableIVX963SHA256AESGCM`: an ephemeral P-256 key
// agreement, X9.63 KDF, AES-GCM). The key id lets unseal tell "sealed under a key that has since
// been deleted" (KeyUnavailable: the data is gone) from a passing failure of the Secure Enclave
// (Failure: try again), which the Security framework's error codes do not reliably separate.
//
// No Secure Enclave (the simulator; no iPhone that runs iOS 15 that we know of): the sealer
// refuses to work, with a PlatformError.Failure, rather than silently protect the store with a
// software key. An app may opt in with `allowSoftwareFallback: true` (for the simulator, say); the
// key is then an ordinary keychain key: same format and behaviour, none of the hardware
// protection, and `isHardwareBacked()` says false.

import CryptoKit
import Foundation
import LocalAuthentication
import Security

public final class SecureEnclaveSealer: SecretSealer, @unchecked Sendable {
    public static let defaultTag = "org.citizen.sdk.store-key-sealer"

    /// Whether this device has a Secure Enclave (false on the simulator). Without one the sealer
    /// works only when created with `allowSoftwareFallback: true`.
    public static var usesSecureEnclave: Bool { SecureEnclave.isAvailable }

    /// The `PlatformError.Failure` detail when there is no Secure Enclave and no opt-in: a fixed
    /// English text, so that it reaches the app's `CitizenError` detail unchanged.
    public static let noSecureEnclaveDetail =
        "no Secure Enclave on this device and a software key was not allowed"

    private static let version: UInt8 = 1
    private static let keyIDLength = 8
    private static let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM

    private let tag: Data
    private let requireUserPresence: Bool
    private let allowSoftwareFallback: Bool
    // Serialises find-or-create so two first seals cannot each make a key under the same tag.
    private let lock = NSLock()

    /// - Parameters:
    ///   - tag: the keychain application tag of the key. One tag per data directory: deleting the
    ///     key (which `Citizen.wipe` and `wipeDataDir` do) makes that store unreadable forever.
    ///   - requireUserPresence: every unseal (each time the store is opened) asks for Face ID,
    ///     Touch ID or the passcode; cancelling gives `CitizenError.AuthenticationRequired`.
    ///   - allowSoftwareFallback: on a device without a Secure Enclave (the simulator), use an
    ///     ordinary keychain key instead of failing. Off by default: a software key protects the
    ///     store far less, and the app must choose that knowingly (e.g. only in simulator builds).
    public init(
        tag: String = SecureEnclaveSealer.defaultTag,
        requireUserPresence: Bool = false,
        allowSoftwareFallback: Bool = false
    ) {
        self.tag = Data(tag.utf8)
        self.requireUserPresence = requireUserPresence
        self.allowSoftwareFallback = allowSoftwareFallback
    }

    public func seal(plaintext: Data) throws -> Data {
        try requireSecureEnclaveOrOptIn()
        let privateKey = try locked { try findKey() ?? createKey() }
        let publicKey = try publicKey(of: privateKey)
        var error: Unmanaged<CFError>?
        guard let ciphertext = SecKeyCreateEncryptedData(
            publicKey, Self.algorithm, plaintext as CFData, &error
        ) as Data? else {
            throw Self.platformError(error, while: "encrypt")
        }
        let id = try keyID(of: publicKey)
        return Data([Self.version]) + id + ciphertext
    }

    public func unseal(sealed: Data) throws -> Data {
        let bytes = [UInt8](sealed)
        guard bytes.count > 1 + Self.keyIDLength, bytes[0] == Self.version else {
            throw Self.failure("the sealed value has an unknown format")
        }
        try requireSecureEnclaveOrOptIn()
        guard let privateKey = try locked({ try findKey() }) else {
            throw PlatformError.KeyUnavailable
        }
        let storedID = Data(bytes[1...Self.keyIDLength])
        let currentID = try keyID(of: try publicKey(of: privateKey))
        guard storedID == currentID else {
            // Sealed under an earlier key that was deleted (and a new one made since).
            throw PlatformError.KeyUnavailable
        }
        let ciphertext = Data(bytes[(1 + Self.keyIDLength)...])
        var error: Unmanaged<CFError>?
        guard let plaintext = SecKeyCreateDecryptedData(
            privateKey, Self.algorithm, ciphertext as CFData, &error
        ) as Data? else {
            throw Self.platformError(error, while: "decrypt")
        }
        return plaintext
    }

    /// Works with or without a Secure Enclave: deleting is the way out (`wipeDataDir`) in every case.
    public func deleteKey() throws {
        try locked {
            let status = SecItemDelete(keyQuery() as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw Self.platformError(status: status, while: "delete the key")
            }
        }
    }

    /// Whether the current key lives in the Secure Enclave, as the keychain records it (its token
    /// id). False for a software key (the opt-in fallback), when there is no key yet, and when the
    /// keychain cannot be asked: never claims protection that is not known to be there. The SDK
    /// asks once per open, after sealing or unsealing, and reports it as
    /// `Status.storeKeyHardwareBacked`.
    public func isHardwareBacked() -> Bool {
        var query = keyQuery()
        query[kSecReturnAttributes as String] = true
        var item: CFTypeRef?
        let status = locked { SecItemCopyMatching(query as CFDictionary, &item) }
        guard status == errSecSuccess, let attributes = item as? [String: Any] else {
            return false
        }
        let tokenID = attributes[kSecAttrTokenID as String] as? String
        return tokenID == (kSecAttrTokenIDSecureEnclave as String)
    }

    private func requireSecureEnclaveOrOptIn() throws {
        guard Self.usesSecureEnclave || allowSoftwareFallback else {
            throw Self.failure(Self.noSecureEnclaveDetail)
        }
    }

    // MARK: - The key

    private func keyQuery() -> [String: Any] {
        [
            kSecClass as String: kSecClassKey,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeyClass as String: kSecAttrKeyClassPrivate,
            kSecAttrApplicationTag as String: tag,
        ]
    }

    private func findKey() throws -> SecKey? {
        var query = keyQuery()
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
            throw Self.platformError(status: status, while: "find the key")
        }
    }

    private func createKey() throws -> SecKey {
        var flags: SecAccessControlCreateFlags = []
        if Self.usesSecureEnclave {
            flags.insert(.privateKeyUsage)
        }
        if requireUserPresence {
            flags.insert(.userPresence)
        }
        // AfterFirstUnlock: background work (sync after a push) can open the store while the phone
        // is locked. ThisDeviceOnly: never in a backup or on another device.
        var accessError: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            kCFAllocatorDefault, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, flags, &accessError
        ) else {
            throw Self.platformError(accessError, while: "create the access control of the key")
        }
        var attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag,
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        if Self.usesSecureEnclave {
            attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave
        }
        var error: Unmanaged<CFError>?
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw Self.platformError(error, while: "create the key")
        }
        return key
    }

    private func publicKey(of privateKey: SecKey) throws -> SecKey {
        guard let publicKey = SecKeyCopyPublicKey(privateKey) else {
            throw Self.failure("the key has no public key")
        }
        return publicKey
    }

    private func keyID(of publicKey: SecKey) throws -> Data {
        var error: Unmanaged<CFError>?
        guard let bytes = SecKeyCopyExternalRepresentation(publicKey, &error) as Data? else {
            throw Self.platformError(error, while: "read the public key")
        }
        return Data(SHA256.hash(data: bytes).prefix(Self.keyIDLength))
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - Errors
    //
    // Details are fixed English texts: the operation and, where known, the name of the error code.
    // Nothing from the key, the data or the system's localized descriptions (which are not ours to
    // vouch for) reaches the SDK's logs. Only letters, spaces and `.,:;_-()`: the core withholds a
    // whole detail with any other character (a digit, an apostrophe), so a raw OSStatus would turn
    // a useful text into "its text was withheld". Internal, not private: SecureEnclaveKeyStore
    // maps its errors with the same rules.

    static func failure(_ text: String) -> PlatformError {
        PlatformError.Failure(detail: text)
    }

    static func platformError(_ error: Unmanaged<CFError>?, while operation: String) -> PlatformError {
        guard let error = error?.takeRetainedValue() else {
            return failure("could not \(operation)")
        }
        let domain = CFErrorGetDomain(error) as String
        let code = CFErrorGetCode(error)
        if domain == LAErrorDomain {
            // Face ID / Touch ID / passcode was cancelled, failed or is not set up right now.
            return .AuthenticationRequired
        }
        if domain == NSOSStatusErrorDomain, let status = OSStatus(exactly: code) {
            return platformError(status: status, while: operation)
        }
        return failure("could not \(operation): an error in \(domain)")
    }

    static func platformError(status: OSStatus, while operation: String) -> PlatformError {
        switch status {
        case errSecAuthFailed, errSecUserCanceled:
            // The user did not authenticate (cancelled, or failed Face ID / Touch ID / passcode).
            return .AuthenticationRequired
        case errSecInteractionNotAllowed:
            // The keychain is locked: before the first unlock after a reboot, or a key that needs
            // the device unlocked. It passes by itself; retrying later works, wiping would be wrong.
            return .TemporarilyUnavailable
        case errSecItemNotFound:
            return .KeyUnavailable
        default:
            return failure("could not \(operation): \(name(of: status))")
        }
    }

    /// The Security framework's name for the codes seen around key operations; no number.
    private static func name(of status: OSStatus) -> String {
        switch status {
        case errSecParam: return "errSecParam"
        case errSecAllocate: return "errSecAllocate"
        case errSecNotAvailable: return "errSecNotAvailable"
        case errSecDuplicateItem: return "errSecDuplicateItem"
        case errSecDecode: return "errSecDecode"
        case errSecMissingEntitlement: return "errSecMissingEntitlement"
        case errSecUnimplemented: return "errSecUnimplemented"
        default: return "an unlisted OSStatus"
        }
    }
}
