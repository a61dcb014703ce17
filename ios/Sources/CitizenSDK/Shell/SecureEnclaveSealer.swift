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
// Simulator: it has no Secure Enclave, so there the key is an ordinary keychain key (software, in
// the simulator's keychain). Same format and behaviour, none of the hardware protection. The same
// fallback applies to any device without a Secure Enclave (none that runs iOS 15 that we know of).

import CryptoKit
import Foundation
import LocalAuthentication
import Security

public final class SecureEnclaveSealer: SecretSealer, @unchecked Sendable {
    public static let defaultTag = "org.citizen.sdk.store-key-sealer"

    /// Whether new keys are made in the Secure Enclave (false on the simulator).
    public static var usesSecureEnclave: Bool { SecureEnclave.isAvailable }

    private static let version: UInt8 = 1
    private static let keyIDLength = 8
    private static let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM

    private let tag: Data
    private let requireUserPresence: Bool
    // Serialises find-or-create so two first seals cannot each make a key under the same tag.
    private let lock = NSLock()

    /// - Parameters:
    ///   - tag: the keychain application tag of the key. One tag per data directory: deleting the
    ///     key (which `Citizen.wipe` and `wipeDataDir` do) makes that store unreadable forever.
    ///   - requireUserPresence: every unseal (each time the store is opened) asks for Face ID,
    ///     Touch ID or the passcode; cancelling gives `CitizenError.AuthenticationRequired`.
    public init(tag: String = SecureEnclaveSealer.defaultTag, requireUserPresence: Bool = false) {
        self.tag = Data(tag.utf8)
        self.requireUserPresence = requireUserPresence
    }

    public func seal(plaintext: Data) throws -> Data {
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

    public func deleteKey() throws {
        try locked {
            let status = SecItemDelete(keyQuery() as CFDictionary)
            guard status == errSecSuccess || status == errSecItemNotFound else {
                throw Self.platformError(status: status, while: "delete the key")
            }
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
            throw Self.platformError(accessError, while: "create the key's access control")
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
    // Messages name the operation and a numeric code only: nothing from the key, the data or the
    // system's localized descriptions (which are not ours to vouch for) reaches the SDK's logs.

    private static func failure(_ text: String) -> PlatformError {
        PlatformError.Failure(detail: text)
    }

    private static func platformError(_ error: Unmanaged<CFError>?, while operation: String) -> PlatformError {
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
        return failure("could not \(operation): \(domain) \(code)")
    }

    private static func platformError(status: OSStatus, while operation: String) -> PlatformError {
        switch status {
        case errSecAuthFailed, errSecUserCanceled, errSecInteractionNotAllowed:
            // The user did not (or could not yet, e.g. before the first unlock) authenticate.
            return .AuthenticationRequired
        case errSecItemNotFound:
            return .KeyUnavailable
        default:
            return failure("could not \(operation): OSStatus \(status)")
        }
    }
}
