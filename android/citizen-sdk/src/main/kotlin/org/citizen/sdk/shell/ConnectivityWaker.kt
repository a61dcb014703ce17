// Wakes the dossier sender when the network comes back, while the app's process runs: the sender
// then looks at its queue at once instead of at its next retry time. (When the process is not
// running, CitizenSyncWorker's network constraint does this job.)
//
// Owns: the default-network callback's lifetime (start/stop) and which changes count as "the
// network is back" (NetworkWakeFilter). Does not own what a wake does: the core's
// `Dossiers.wakeSender()`.
package org.citizen.sdk.shell

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.util.Log
import org.citizen.sdk.CitizenException
import org.citizen.sdk.CitizenInterface

/**
 * Calls [onNetworkBack] when the default network becomes available, and again when the system has
 * validated it (reaches the internet; a Wi-Fi behind a captive portal is available long before it
 * is validated, and a send tried in between only fails and backs off). [onNetworkBack] runs on
 * ConnectivityManager's callback thread: keep it short and non-blocking, as `wakeSender()` is.
 *
 * Start it when the app opens its `Citizen` and stop it before closing that `Citizen`.
 */
class ConnectivityWaker(context: Context, private val onNetworkBack: () -> Unit) {
    /** Wakes [citizen]'s dossier sender (`citizen.dossiers().wakeSender()`). */
    constructor(context: Context, citizen: CitizenInterface) : this(context, { wakeSender(citizen) })

    private val connectivity: ConnectivityManager =
        requireNotNull(context.applicationContext.getSystemService(ConnectivityManager::class.java)) {
            "no ConnectivityManager"
        }
    private val filter = NetworkWakeFilter()
    private var callback: ConnectivityManager.NetworkCallback? = null

    /** Registers the callback; does nothing if already started. Needs ACCESS_NETWORK_STATE. */
    @Synchronized
    fun start() {
        if (callback != null) return
        filter.reset()
        val created = object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) {
                if (filter.onAvailable(network)) onNetworkBack()
            }

            override fun onCapabilitiesChanged(network: Network, networkCapabilities: NetworkCapabilities) {
                val validated = networkCapabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED)
                if (filter.onCapabilitiesChanged(network, validated)) onNetworkBack()
            }

            override fun onLost(network: Network) {
                filter.onLost(network)
            }
        }
        // Called at once with the current default network, if any: a wake at start is harmless.
        connectivity.registerDefaultNetworkCallback(created)
        callback = created
    }

    /** Unregisters the callback; does nothing if not started. */
    @Synchronized
    fun stop() {
        val registered = callback ?: return
        callback = null
        connectivity.unregisterNetworkCallback(registered)
    }

    private companion object {
        const val TAG = "CitizenSDK"

        fun wakeSender(citizen: CitizenInterface) {
            try {
                citizen.dossiers().use { it.wakeSender() }
            } catch (error: CitizenException) {
                Log.w(TAG, "could not wake the dossier sender: $error")
            } catch (error: IllegalStateException) {
                // The Citizen was closed before this waker was stopped.
                Log.w(TAG, "ConnectivityWaker outlived its Citizen: stop it before closing: $error")
            }
        }
    }
}

/**
 * Which default-network changes count as "the network is back", keyed by network (any value
 * with equality: `android.net.Network` on a device): a network becoming available, and a network
 * becoming validated for the first time since it became available. Later capability changes
 * (signal strength, metering, ...) of an already validated network do not count.
 */
class NetworkWakeFilter {
    private val validated = HashSet<Any>()

    /** A new default network: wake. */
    @Synchronized
    fun onAvailable(network: Any): Boolean {
        validated.remove(network)
        return true
    }

    /** Wake when [network] is validated now and was not before. */
    @Synchronized
    fun onCapabilitiesChanged(network: Any, isValidated: Boolean): Boolean =
        if (isValidated) validated.add(network) else validated.remove(network).let { false }

    @Synchronized
    fun onLost(network: Any) {
        validated.remove(network)
    }

    @Synchronized
    fun reset() {
        validated.clear()
    }
}
