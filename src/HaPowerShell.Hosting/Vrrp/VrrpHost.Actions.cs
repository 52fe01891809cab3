using System.Net;
using System.Net.Sockets;
using HaPowerShell.Core.Arp;
using HaPowerShell.Core.Vrrp;
using HaPowerShell.Hosting.Arp;
using HaPowerShell.Native;
using HaPowerShell.Native.Netlink;
using HaPowerShell.Native.Packet;
using HaPowerShell.Native.Processes;
using HaPowerShell.Native.Rtnl;

namespace HaPowerShell.Hosting.Vrrp;

/// <summary>What the engine asks for (<see cref="IVrrpActions"/>), on the engine thread.</summary>
public sealed partial class VrrpHost
{
    // ---- what the engine asks for (engine thread) ------------------------------------------

    private sealed class Actions : IVrrpActions
    {
        private readonly VrrpHost _h;
        private readonly SocketEntry? _dry;

        /// <param name="dry">
        /// For a takeover rehearsal: every action runs its own code against this socket entry's interface but
        /// changes nothing: adverts are sent with MSG_PROBE (no packet), address requests name interface index 0
        /// (the kernel answers ENODEV), gratuitous ARP frames are sent as probes (<see cref="PacketSocket.ProbeOnly"/>:
        /// interface index 0, refused by the kernel), no filter, script, paced burst or state event.
        /// </param>
        public Actions(VrrpHost host, SocketEntry? dry = null)
        {
            _h = host;
            _dry = dry;
        }

        private VrrpRunningInstance? Handle(VrrpInstance i) => _dry is null && _h._running.TryGetValue(i.Name, out var h) ? h : null;

        private bool TryEntry(VrrpInstance i, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SocketEntry? entry)
        {
            entry = _dry;
            return entry is not null || _h._socketOf.TryGetValue(i.Name, out entry);
        }

        public void SendAdvertisement(VrrpInstance instance, VrrpOutboundAdvertisement advertisement)
        {
            if (!TryEntry(instance, out var entry)) return;
            try { entry.Socket.Send(advertisement.Destination, advertisement.Message, probe: _dry is not null); }
            catch (Exception e) { Handle(instance)?.CountSendError(e); }
        }

        public bool AddVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses)
        {
            if (!TryEntry(instance, out var entry)) return false;
            bool all = true;
            // Drop rules first, so no packet to a virtual address is accepted before they are in place.
            if (_dry is null) _h.SyncAcceptFilter(instance);
            foreach (var a in addresses)
            {
                try
                {
                    AddressActions.Add(_h._rtnl, _dry is null ? _h.IndexOf(entry, a) : 0, a.Address, a.PrefixLength, a.Label,
                        AddressFlags(a), a.Scope, a.Broadcast);
                }
                catch (Exception e)
                {
                    all = false;
                    Handle(instance)?.CountActionError($"add {a.Address}", e);
                }
            }
            return all;
        }

        public void RemoveVirtualAddresses(VrrpInstance instance, IReadOnlyList<VrrpVirtualAddress> addresses)
        {
            if (!TryEntry(instance, out var entry)) return;
            foreach (var a in addresses)
            {
                try { AddressActions.Remove(_h._rtnl, _dry is null ? _h.IndexOf(entry, a) : 0, a.Address, a.PrefixLength); }
                catch (Exception e) { Handle(instance)?.CountActionError($"remove {a.Address}", e); }
            }
            // A Master that is leaving: the addresses are gone, so are the drop rules (a reconfiguration that
            // drops some addresses keeps them; the host syncs the rules to the new list after it).
            if (instance.IsLeavingMaster && _h._filterChainOf.TryGetValue(instance.Name, out var chain) && Handle(instance) is { } handle)
                _h.RemoveAcceptFilter(chain, handle);
        }

        public void SendGratuitousArp(VrrpInstance instance, int count, VrrpGarpKind kind)
        {
            if (!TryEntry(instance, out var entry)) return;
            var vips = instance.Config.VirtualAddresses;
            if (!HasDevice(vips))
            {
                Announce(instance, entry.Socket.InterfaceIndex, entry.InterfaceName, vips.Select(v => v.Address).ToArray(), count);
                return;
            }
            // Addresses on other interfaces (dev) are announced from those interfaces.
            foreach (var g in vips.GroupBy(v => v.Device ?? entry.InterfaceName, StringComparer.Ordinal))
                Announce(instance, g.Key == entry.InterfaceName ? entry.Socket.InterfaceIndex : _h.IndexOf(entry, g.First()), g.Key,
                    g.Select(v => v.Address).ToArray(), count);
        }

        private static bool HasDevice(IReadOnlyList<VrrpVirtualAddress> vips)
        {
            for (int i = 0; i < vips.Count; i++)
                if (vips[i].Device is not null) return true;
            return false;
        }

        private static uint AddressFlags(VrrpVirtualAddress a)
            => (a.NoPrefixRoute ? RtnlClient.IfaFNoPrefixRoute : 0) | (a.HomeAddress ? RtnlClient.IfaFHomeAddress : 0);

        private void Announce(VrrpInstance instance, int ifindex, string ifname, IPAddress[] addresses, int count)
        {
            var interval = instance.Config.Garp.Interval;
            var handle = Handle(instance);
            string name = instance.Name;
            // The first round (one frame per address) goes now, from this thread: a new Master's first
            // announcement should follow its first advert within a millisecond.
            try
            {
                if (_h.GetAnnouncer(ifindex, ifname) is not { } a) return;
                a.Socket.ProbeOnly = _dry is not null;
                try { new ArpEngine().Announce(a.Socket, a.Interface, addresses, GratuitousArpMode.Request, 1, TimeSpan.Zero); }
                finally { a.Socket.ProbeOnly = false; }
            }
            catch (Exception e)
            {
                handle?.CountActionError("gratuitous ARP", e);
                return;
            }
            if (count <= 1 || _dry is not null) return;
            // The other rounds, paced by the interval, on the instance's chain so a slow burst never holds the loop.
            var prev = _h._announceChain.TryGetValue(name, out var t) ? t : Task.CompletedTask;
            _h._announceChain[name] = prev.ContinueWith(_ =>
            {
                try
                {
                    if (interval > TimeSpan.Zero) Thread.Sleep(interval);
                    var link = _h._rtnl.GetLink(ifindex);
                    if (link?.MacAddress is null || !link.CanArp) return;
                    using var channel = PacketSocket.Open(ifindex, ifname, 0);
                    new ArpEngine().Announce(channel, new ArpInterface(ifname, ifindex, link.MacAddress), addresses,
                        GratuitousArpMode.Request, count - 1, interval);
                }
                catch (Exception e) { handle?.CountActionError("gratuitous ARP", e); }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        public void RunNotify(VrrpInstance instance, VrrpNotification notification)
        {
            if (_dry is not null) return;
            var handle = Handle(instance);
            var timeout = _h.NotifyTimeout;
            // One chain for the process keeps notifications in order; each is bounded by the timeout.
            _h._notifyChain = _h._notifyChain.ContinueWith(_ =>
            {
                foreach (var c in notification.Commands)
                {
                    try
                    {
                        var args = new List<string> { "-c", c.Command + " \"$@\"", "sh" };
                        args.AddRange(c.Arguments);
                        var r = _h.Runner.Run(new ProcessRunRequest { FileName = "/bin/sh", Arguments = args, Timeout = timeout, KillGrace = TimeSpan.FromSeconds(1), User = _h.ScriptUser });
                        if (r.TimedOut)
                            _h.Report(HostLogLevel.Warning, instance.Name, $"the notify script '{c.Command}' ran longer than {timeout.TotalSeconds:0.###} s; its process group was killed.");
                        else if (r.ExitCode != 0 || r.Signal != 0)
                            _h.Report(HostLogLevel.Warning, instance.Name, $"the notify script '{c.Command}' failed ({(r.Signal != 0 ? $"signal {r.Signal}" : $"exit status {r.ExitCode}")}).");
                    }
                    catch (Exception e) { handle?.CountActionError($"notify '{c.Command}'", e); }
                }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        public void RunTrackScript(VrrpTrackScript script)
        {
            if (_dry is not null) return;
            Task.Run(() =>
            {
                bool ok;
                try
                {
                    var r = _h.Runner.Run(new ProcessRunRequest
                    {
                        FileName = "/bin/sh",
                        Arguments = new[] { "-c", script.Command },
                        Timeout = script.Timeout,
                        KillGrace = TimeSpan.FromSeconds(1),
                        User = _h.ScriptUser,
                    });
                    ok = !r.TimedOut && !r.Killed && r.Signal == 0 && r.ExitCode == 0;
                }
                catch { ok = false; }
                _h.Post(() => _h._engine.ReportTrackScriptResult(script.Name, ok));
            });
        }

        public void StateChanged(VrrpStateChange change)
        {
            if (_dry is not null) return;
            var handle = Handle(change.Instance);
            if (handle is null) return;
            var now = DateTime.Now;
            handle.LastTransition = now;
            handle.LastTransitionReason = change.Reason;
            handle.PreviousState = change.From;
            handle.TransitionCount++;
            _h._pendingEvents.Add(new VrrpStateChangedEventArgs(handle, change.From, change.To, change.Reason, now, change.Instance.EffectivePriority));
        }
    }
}
