// Helpers shared by the JVM tests of the Android module: a file-backed key source for the shell's
// real AES-GCM sealer, an in-memory key source for its real ECDSA key store, sealers that
// misbehave on purpose, recorders for events and log lines, and
// the sandbox portal's coordinates.
//
// Owns: test plumbing only. Nothing here fakes the SDK: every test calls the real Rust library
// through JNA (`-Djna.library.path` points at the host build).
package org.citizen.sdk

import java.io.File
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.SecureRandom
import java.security.spec.ECGenParameterSpec
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.SecretKey
import javax.crypto.spec.SecretKeySpec
import org.citizen.sdk.shell.AesGcmSecretSealer
import org.citizen.sdk.shell.SealingKeySource
import org.citizen.sdk.shell.SigningKeySource
import org.junit.Assert.fail
import org.junit.Assume

/**
 * An AES-256 key in a plain file: the JVM stand-in for the Android Keystore. It protects nothing
 * and exists only so the shell's AesGcmSecretSealer runs unchanged on the desktop.
 */
class FileKeySource(private val file: File) : SealingKeySource {
    override fun find(): SecretKey? = if (file.exists()) SecretKeySpec(file.readBytes(), "AES") else null

    override fun create(): SecretKey {
        val bytes = ByteArray(32).also { SecureRandom().nextBytes(it) }
        file.writeBytes(bytes)
        return SecretKeySpec(bytes, "AES")
    }

    override fun delete() {
        file.delete()
    }

    /** A file on disk: nothing about it is hardware-backed. */
    override fun isHardwareBacked(): Boolean = false
}

/**
 * P-256 key pairs from the JVM's own provider, kept in memory: the JVM stand-in for the Android
 * Keystore. It protects nothing and exists only so the shell's EcdsaKeyStore runs unchanged on the
 * desktop. Remembers the policy each key was made with.
 */
class MemoryKeySource : SigningKeySource {
    private val pairs = ConcurrentHashMap<String, KeyPair>()
    val policies = ConcurrentHashMap<String, KeyPolicy>()

    override fun find(alias: String): KeyPair? = pairs[alias]

    override fun create(alias: String, policy: KeyPolicy): KeyPair {
        val generator = KeyPairGenerator.getInstance("EC")
        generator.initialize(ECGenParameterSpec("secp256r1"))
        return generator.generateKeyPair().also {
            pairs[alias] = it
            policies[alias] = policy
        }
    }

    override fun delete(alias: String) {
        pairs.remove(alias)
        policies.remove(alias)
    }

    /** Keys in the JVM's memory: nothing about them is hardware-backed. */
    override fun isHardwareBacked(alias: String, key: KeyPair): Boolean = false
}

/** The shell's real sealer with its key in [keyFile]. Keep the key file outside the data dir. */
fun fileSealer(keyFile: File): AesGcmSecretSealer = AesGcmSecretSealer(FileKeySource(keyFile))

/**
 * Wraps a sealer and counts what the SDK asked of it. [hardwareBacked] overrides the inner
 * sealer's answer to isHardwareBacked (null: ask the inner sealer).
 */
class CountingSealer(private val inner: SecretSealer, private val hardwareBacked: Boolean? = null) : SecretSealer {
    val seals = AtomicInteger()
    val unseals = AtomicInteger()
    val deletes = AtomicInteger()
    val hardwareQueries = AtomicInteger()

    override fun seal(plaintext: ByteArray): ByteArray = inner.seal(plaintext).also { seals.incrementAndGet() }

    override fun unseal(sealed: ByteArray): ByteArray = inner.unseal(sealed).also { unseals.incrementAndGet() }

    override fun deleteKey() = inner.deleteKey().also { deletes.incrementAndGet() }

    override fun isHardwareBacked(): Boolean {
        hardwareQueries.incrementAndGet()
        return hardwareBacked ?: inner.isHardwareBacked()
    }
}

/** A sealer whose unseal "succeeds" with a fresh random 32-byte key: a valid key, but not the store's. */
class WrongKeySealer : SecretSealer {
    override fun seal(plaintext: ByteArray): ByteArray = throw PlatformException.Failure("this test sealer does not seal")

    override fun unseal(sealed: ByteArray): ByteArray = ByteArray(32).also { SecureRandom().nextBytes(it) }

    override fun deleteKey() = throw PlatformException.Failure("this test sealer does not delete")

    override fun isHardwareBacked(): Boolean = false
}

/** A sealer whose key is gone, as after the Keystore invalidated it. */
class KeyUnavailableSealer : SecretSealer {
    override fun seal(plaintext: ByteArray): ByteArray = throw PlatformException.KeyUnavailable()

    override fun unseal(sealed: ByteArray): ByteArray = throw PlatformException.KeyUnavailable()

    override fun deleteKey() = throw PlatformException.Failure("this test sealer does not delete")

    override fun isHardwareBacked(): Boolean = false
}

/** A sealer whose key cannot be used right now (keystore daemon restarting, device locked). */
class TemporarilyUnavailableSealer : SecretSealer {
    override fun seal(plaintext: ByteArray): ByteArray = throw PlatformException.TemporarilyUnavailable()

    override fun unseal(sealed: ByteArray): ByteArray = throw PlatformException.TemporarilyUnavailable()

    override fun deleteKey() = throw PlatformException.TemporarilyUnavailable()

    override fun isHardwareBacked(): Boolean = false
}

/** A sealer that fails every operation with `PlatformException.Failure(detail)`. */
class FailingSealer(private val detail: String) : SecretSealer {
    override fun seal(plaintext: ByteArray): ByteArray = throw PlatformException.Failure(detail)

    override fun unseal(sealed: ByteArray): ByteArray = throw PlatformException.Failure(detail)

    override fun deleteKey() = throw PlatformException.Failure(detail)

    override fun isHardwareBacked(): Boolean = false
}

class EventRecorder : EventListener {
    private val events = LinkedBlockingQueue<Event>()

    override fun onEvent(event: Event) {
        events.add(event)
    }

    /** The next event, waiting up to [seconds]; null if none came. */
    fun next(seconds: Long = 10): Event? = events.poll(seconds, TimeUnit.SECONDS)

    /** Everything received so far, without waiting. */
    fun drain(): List<Event> = mutableListOf<Event>().also { events.drainTo(it) }
}

class LogRecorder : LogSink {
    private val records = LinkedBlockingQueue<LogRecord>()

    override fun log(record: LogRecord) {
        records.add(record)
    }

    fun all(): List<LogRecord> = records.toList()
}

/** Every file below [dir] by relative path, with its bytes: to prove nothing was touched. */
fun snapshot(dir: File): Map<String, List<Byte>> =
    dir.walkTopDown()
        .filter { it.isFile }
        .associate { it.relativeTo(dir).path to it.readBytes().toList() }

/** A syntactically valid portal URL for tests that never reach the network. */
const val OFFLINE_PORTAL = "https://portal.invalid"

/**
 * A config for [OFFLINE_PORTAL]. It has no pins, so it must say `allowUnpinned = true` (the
 * explicit development setup; the SDK logs a warning about it): pinning is otherwise required.
 */
fun offlineConfig(dataDir: File): CitizenConfig =
    CitizenConfig(dataDir = dataDir.path, portalBaseUrl = OFFLINE_PORTAL, allowUnpinned = true)

/**
 * The sandbox portal started by `cargo xtask test`. Its coordinates come from the environment;
 * without them the tests that need it fail under xtask (CITIZEN_SANDBOX_REQUIRED=1) and are
 * skipped elsewhere (e.g. a plain `./gradlew test`).
 */
class Sandbox private constructor(val url: String, val caPem: String, val pin: String) {
    fun config(dataDir: File, pins: List<String> = listOf(pin), url: String = this.url) =
        CitizenConfig(
            dataDir = dataDir.path,
            portalBaseUrl = url,
            trustedRootsPem = listOf(caPem),
            portalSpkiPins = pins,
        )

    companion object {
        fun get(): Sandbox {
            val url = System.getenv("CITIZEN_SANDBOX_URL").orEmpty()
            val ca = System.getenv("CITIZEN_SANDBOX_CA").orEmpty()
            val pin = System.getenv("CITIZEN_SANDBOX_PIN").orEmpty()
            if (url.isEmpty() || ca.isEmpty() || pin.isEmpty()) {
                val why = "CITIZEN_SANDBOX_URL, CITIZEN_SANDBOX_CA and CITIZEN_SANDBOX_PIN must be set"
                if (System.getenv("CITIZEN_SANDBOX_REQUIRED") == "1") throw AssertionError(why)
                Assume.assumeTrue("$why (see docs/platforms.md)", false)
            }
            return Sandbox(url, File(ca).readText(), pin)
        }
    }
}

/**
 * An SDK instance on [dataDir] (its sealing key in a file beside it) that talks to the sandbox
 * and holds the sandbox's trust list: what the check-in and health-certificate tests start from.
 */
suspend fun openTrustingSandbox(dataDir: File): Citizen {
    val config = Sandbox.get().config(dataDir).copy(trustAnchors = listOf(SandboxAdmin.trustAnchor()))
    val citizen = Citizen.open(config, PlatformServices(fileSealer(File(dataDir.parentFile, dataDir.name + ".key"))))
    try {
        citizen.refreshTrustList()
    } catch (e: Throwable) {
        citizen.close()
        throw e
    }
    return citizen
}

/** Runs [block] and returns the exception of type [E] it threw; fails otherwise. */
inline fun <reified E : Throwable> expectThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e", e)
    }
    fail("expected ${E::class.simpleName}, nothing was thrown")
    throw IllegalStateException("unreachable")
}

/**
 * Forges signed QR texts (`CK1:`, `HC1:`: prefix + Base45 of zlib of a COSE_Sign1) for refusal
 * tests: [tamper] changes signed bytes and packs the text again, so it still reads but its
 * signature no longer holds.
 */
object SignedQrForgery {
    private const val ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ \$%*+-./:"

    /**
     * [text] with the first occurrence of [from] inside its COSE bytes replaced by [to] (same
     * length): the claims say something else under the original signature.
     */
    fun tamper(text: String, prefix: String, from: String, to: String): String {
        require(text.startsWith(prefix)) { "not a $prefix text" }
        val old = from.toByteArray(Charsets.UTF_8)
        val new = to.toByteArray(Charsets.UTF_8)
        require(old.size == new.size && !old.contentEquals(new))
        val cose = inflate(base45Decode(text.removePrefix(prefix)))
        val at = indexOf(cose, old)
        require(at >= 0) { "the signed bytes do not contain the text to change" }
        new.copyInto(cose, at)
        return prefix + base45Encode(deflate(cose))
    }

    private fun indexOf(haystack: ByteArray, needle: ByteArray): Int =
        (0..haystack.size - needle.size).firstOrNull { start ->
            needle.indices.all { haystack[start + it] == needle[it] }
        } ?: -1

    private fun base45Decode(text: String): ByteArray {
        val out = java.io.ByteArrayOutputStream()
        var i = 0
        while (i < text.length) {
            val chunk = text.substring(i, minOf(i + 3, text.length))
            var value = 0
            var factor = 1
            for (c in chunk) {
                value += ALPHABET.indexOf(c).also { require(it >= 0) { "not Base45" } } * factor
                factor *= 45
            }
            if (chunk.length == 3) {
                out.write(value / 256)
                out.write(value % 256)
            } else {
                out.write(value)
            }
            i += 3
        }
        return out.toByteArray()
    }

    private fun base45Encode(bytes: ByteArray): String = buildString {
        var i = 0
        while (i < bytes.size) {
            if (i + 1 < bytes.size) {
                var value = (bytes[i].toInt() and 0xff) * 256 + (bytes[i + 1].toInt() and 0xff)
                repeat(3) {
                    append(ALPHABET[value % 45])
                    value /= 45
                }
            } else {
                val value = bytes[i].toInt() and 0xff
                append(ALPHABET[value % 45])
                append(ALPHABET[value / 45])
            }
            i += 2
        }
    }

    private fun inflate(bytes: ByteArray): ByteArray =
        java.util.zip.InflaterInputStream(bytes.inputStream()).readBytes()

    private fun deflate(bytes: ByteArray): ByteArray {
        val out = java.io.ByteArrayOutputStream()
        java.util.zip.DeflaterOutputStream(out).use { it.write(bytes) }
        return out.toByteArray()
    }
}
