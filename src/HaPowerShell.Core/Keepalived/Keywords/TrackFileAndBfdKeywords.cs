using System.Net.Sockets;
using static HaPowerShell.Core.Keepalived.KeepalivedText;

namespace HaPowerShell.Core.Keepalived;

internal sealed class VrrpTrackedBfd
{
    public string Name = "";
    public int Weight;
    public bool Reverse;
}

// track_file / vrrp_track_file (keepalived/trackers/track_file.c) and bfd_instance (keepalived/bfd/bfd_parser.c).
internal sealed partial class KeepalivedParseContext
{
    private KeepalivedTrackFile? _curTrackFile;
    private readonly List<KeepalivedTrackFile> _trackFiles = new();
    private List<KeepalivedTrackFile> _checkTrackFiles => _trackFiles;
    private readonly List<VrrpTrackedBfd> _vrrpTrackedBfds = new();
    private readonly List<string> _checkerTrackedBfds = new();
    private KeepalivedBfdInstance? _bfd;
    private VrrpTrackedBfd? _vbfd;
    private int _bfdEventProcesses;   // bit 1: vrrp, bit 2: checker
    private string _neighborWord = "neighbor";

    internal void TrackFileBlock(string[]? w)
    {
        if (w is null) return;
        _curTrackFile = new KeepalivedTrackFile { Name = Slot(w, 1), Weight = 1 };
        SetBlockLocation(_curTrackFile);
        OpenedBlock = _curTrackFile;
    }

    internal void VrrpTrackFileBlock(string[]? w)
    {
        if (w is null) return;
        Note("\"vrrp_track_file\" is deprecated, please use \"track_file\"", KeepalivedFindingCategory.Deprecated);
        TrackFileBlock(w);
    }

    internal void TrackFileFile(string[] w)
    {
        if (w.Length < 2) { Error("track file file name missing", KeepalivedFindingCategory.MissingValue); return; }
        var t = _curTrackFile;
        if (t is null) return;
        if (t.FilePath is not null) { Error($"File already set for track file {t.Name} - ignoring {w[1]}", KeepalivedFindingCategory.Duplicate); return; }
        t.FilePath = w[1];
    }

    internal void TrackFileWeight(string[] w)
    {
        var t = _curTrackFile;
        if (w.Length < 2) { Error($"No weight specified for track file {t?.Name} - ignoring", KeepalivedFindingCategory.MissingValue); return; }
        if (t is null) return;
        if (t.Weight != 1) { Error($"Weight already set for track file {t.Name} - ignoring {w[1]}", KeepalivedFindingCategory.Duplicate); return; }
        if (!ReadInt(w[1], out int wt, -254, 254))
        {
            Error($"Weight ({w[1]}) for track_file {t.Name} must be between [-254..254] inclusive. Ignoring...");
            wt = 1;
        }
        t.Weight = wt;
        if (w.Length >= 3)
        {
            if (w[2] == "reverse") t.WeightReverse = true;
            else Error($"track_file {t.Name} unknown weight option {w[2]}");
        }
    }

    internal void TrackFileInit(string[] w)
    {
        var t = _curTrackFile;
        if (t is null) return;
        t.InitFile = true;
        t.InitValue = 0;
        for (int i = 1; i < w.Length; i++)
        {
            string word = w[i].Substring(StrSpn(w[i], 0, WhiteSpace));
            if (word.Length > 0 && (IsDigit(word[0]) || word[0] == '-'))
            {
                if (!ReadInt(w[i], out int v, int.MinValue, int.MaxValue))
                {
                    Error($"Track file {t.Name} init value {word} is invalid");
                    v = 0;
                }
                else if (v < -254 || v > 254)
                    Error($"Track file {t.Name} init value {v} is outside sensible range [-254, 254]");
                t.InitValue = v;
            }
            else if (word == "overwrite") t.InitOverwrite = true;
            else Error($"Unknown track file init option {word}");
        }
    }

    internal void TrackFileEnd(KeepalivedParseContext _)
    {
        var t = _curTrackFile;
        if (t is null) return;
        if (t.FilePath is null)
        {
            Error($"No file set for track_file {t.Name} - ignoring", KeepalivedFindingCategory.MissingValue);
            return;
        }
        _curTrackFile = null;
        _trackFiles.Add(t);
        if (Pass == KeepalivedPass.Vrrp) Config.TrackFiles.Add(t);
        if (!t.InitFile) return;
        var st = Env.Stat(t.FilePath, true);
        if (st is not null)
        {
            if (!t.InitOverwrite) return;
            if (!st.IsRegularFile)
                Report(KeepalivedErrorLevel.General, KeepalivedFindingCategory.Environment, $"Cannot initialise track file {t.Name} - it is not a regular file", environment: true);
        }
    }

    // ---------------------------------------------------------------- bfd_instance

    internal void BfdInstance(string[]? w)
    {
        if (w is null) return;
        _bfdEventProcesses = 0;
        switch (Pass)
        {
            case KeepalivedPass.Vrrp:
                _vbfd = new VrrpTrackedBfd { Name = Slot(w, 1) };
                if (_vrrpTrackedBfds.Any(b => b.Name == _vbfd.Name)) { }
                _vrrpTrackedBfds.Add(_vbfd);
                return;
            case KeepalivedPass.Checker:
            {
                string name = w.Length > 1 ? w[1] : "";
                if (_checkerTrackedBfds.Contains(name))
                {
                    Error($"BFD {name} already specified", KeepalivedFindingCategory.Duplicate);
                    SkipBlock(true);
                    return;
                }
                _checkerTrackedBfds.Add(name);
                return;
            }
        }
        string iname = w.Length > 1 ? w[1] : "";
        if (iname.Length >= 32)
        {
            Error($"Configuration error: BFD instance {iname} name too long (maximum length is 31 characters) - ignoring");
            SkipBlock(true);
            return;
        }
        if (Config.BfdInstances.Any(b => b.Name == iname))
        {
            Error($"Configuration error: BFD instance {iname} already configured - ignoring", KeepalivedFindingCategory.Duplicate);
            SkipBlock(true);
            return;
        }
        _bfd = new KeepalivedBfdInstance { Name = iname };
        SetBlockLocation(_bfd);
        Config.BfdInstances.Add(_bfd);
        OpenedBlock = _bfd;
    }

    private bool BfdHandlers => Pass == KeepalivedPass.Bfd;

    internal void BfdNeighbor(string[] w)
    {
        if (!BfdHandlers) return;
        var b = _bfd!;
        if (w.Length > 1 && w[1] == "neighbour_ip") _neighborWord = "neighbour";
        string text = Slot(w, 1);
        if (!ParseSockAddr(text, "3784", out var a, out _))
        {
            Error($"Configuration error: BFD instance {b.Name} has malformed {_neighborWord} address {text}, ignoring instance");
            Config.BfdInstances.Remove(b);
            SkipBlock(false);
            return;
        }
        b.Neighbor = a!.ToString();
        b.St.Neighbor = a;
    }

    internal void BfdSource(string[] w)
    {
        if (!BfdHandlers) return;
        var b = _bfd!;
        string text = Slot(w, 1);
        if (!ParseSockAddr(text, null, out var a, out _))
        {
            Error($"Configuration error: BFD instance {b.Name} has malformed source address {text}, ignoring");
            return;
        }
        b.Source = a!.ToString();
        b.St.Source = a;
    }

    private void BfdInterval(string[] w, string what, uint min, uint max, Action<int> set)
    {
        if (!BfdHandlers) return;
        var b = _bfd!;
        if (!ReadDecimal(Slot(w, 1), out ulong v, min * 1000UL, max * 1000UL, 3, ignoreError: false))
        {
            Error($"Configuration error: BFD instance {b.Name} {what} value {w[1]} is not valid (must be in range [{min}-{max}]), ignoring");
            return;
        }
        set((int)Math.Min(v / 1000, int.MaxValue));
        if (v > 10000 * 1000UL) Note($"Configuration warning: BFD instance {b.Name} {what} value {w[1]} is larger than max sensible (10000)");
    }

    internal void BfdMinRx(string[] w) => BfdInterval(w, "min_rx", 1, uint.MaxValue / 1000, v => _bfd!.MinRx = v);
    internal void BfdMinTx(string[] w) => BfdInterval(w, "min_tx", 1, uint.MaxValue / 1000, v => _bfd!.MinTx = v);
    internal void BfdIdleTx(string[] w) => BfdInterval(w, "idle_tx", 1000, uint.MaxValue / 1000, v => _bfd!.IdleTx = v);

    internal void BfdMultiplier(string[] w)
    {
        if (!BfdHandlers) return;
        if (!ReadUnsigned(Slot(w, 1), out uint v, 1, 255))
            Error($"Configuration error: BFD instance {_bfd!.Name} multiplier value {w[1]} not valid (must be in range [1-255]), ignoring");
        else _bfd!.Multiplier = (int)v;
    }

    internal void BfdPassive(string[] w)
    {
        if (BfdHandlers) _bfd!.Passive = true;
    }

    internal void BfdTtl(string[] w)
    {
        if (!BfdHandlers) return;
        if (!ReadUnsigned(Slot(w, 1), out uint v, 1, 255))
            Error($"Configuration error: BFD instance {_bfd!.Name} ttl/hoplimit value {w[1]} not valid (must be in range [1-255]), ignoring");
        else _bfd!.Ttl = (int)v;
    }

    internal void BfdMaxHops(string[] w)
    {
        if (!BfdHandlers) return;
        if (!ReadInt(Slot(w, 1), out int v, -1, 255))
            Error($"Configuration error: BFD instance {_bfd!.Name} max_hops value {w[1]} not valid (must be in range [-1-255]), ignoring");
        else _bfd!.MaxHops = v;
    }

    internal void BfdWeight(string[] w)
    {
        if (Pass != KeepalivedPass.Vrrp) return;
        var t = _vbfd!;
        if (!ReadInt(Slot(w, 1), out int v, -253, 253))
            Error($"Configuration error: BFD instance {t.Name} weight value {w[1]} not valid (must be in range [-253-253]), ignoring");
        else t.Weight = v;
        if (w.Length >= 3)
        {
            if (w[2] != "reverse") Error($"Configuration error: BFD instance {t.Name} unknown weight option {w[2]}");
            else t.Reverse = true;
        }
    }

    internal void BfdEventVrrp(string[] w) => _bfdEventProcesses |= 1;
    internal void BfdEventChecker(string[] w) => _bfdEventProcesses |= 2;

    internal void BfdInstanceEnd(KeepalivedParseContext _)
    {
        switch (Pass)
        {
            case KeepalivedPass.Vrrp:
                if (_bfdEventProcesses != 0 && (_bfdEventProcesses & 1) == 0 && _vbfd is not null) _vrrpTrackedBfds.Remove(_vbfd);
                return;
            case KeepalivedPass.Checker:
                if (_bfdEventProcesses != 0 && (_bfdEventProcesses & 2) == 0 && _checkerTrackedBfds.Count > 0) _checkerTrackedBfds.RemoveAt(_checkerTrackedBfds.Count - 1);
                return;
        }
        var b = _bfd!;
        if (!Config.BfdInstances.Contains(b)) return;
        if (b.St.Neighbor is null)
        {
            Error($"Configuration error: BFD instance {b.Name} has no {_neighborWord} address set, disabling instance", KeepalivedFindingCategory.MissingValue);
            Config.BfdInstances.Remove(b);
            return;
        }
        if (b.St.Source is { } src && src.AddressFamily != b.St.Neighbor.AddressFamily)
        {
            Error($"Configuration error: BFD instance {b.Name} source address {src} and {_neighborWord} address {b.St.Neighbor} are not of the same family, disabling instance");
            Config.BfdInstances.Remove(b);
            return;
        }
        var dup = Config.BfdInstances.FirstOrDefault(o => o != b && Equals(o.St.Neighbor, b.St.Neighbor) && Equals(o.St.Source, b.St.Source));
        if (dup is not null)
        {
            if (b.St.Source is not null)
                Error($"Configuration error: BFD instance {b.Name} has duplicate source/{_neighborWord} address {b.St.Source}/{b.St.Neighbor}, ignoring instance", KeepalivedFindingCategory.Duplicate);
            else
                Error($"Configuration error: BFD instance {b.Name} has duplicate {_neighborWord} address {b.St.Neighbor}, ignoring instance", KeepalivedFindingCategory.Duplicate);
            Config.BfdInstances.Remove(b);
            return;
        }
        int ttl = b.Ttl ?? (b.St.Neighbor.AddressFamily == AddressFamily.InterNetwork ? 255 : 64);
        if ((b.MaxHops ?? 0) > ttl)
        {
            Error($"BFD instance {b.Name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit");
            b.MaxHops = ttl;
        }
    }
}
