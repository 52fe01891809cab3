namespace HaPowerShell.Core.Vrrp;

/// <summary>Per-instance (or engine-wide, for packets no instance claimed) statistics.</summary>
public sealed class VrrpCounters
{
    private readonly long[] _rejected = new long[Enum.GetValues<VrrpRejectReason>().Length];

    /// <summary>Advert packets sent (one per destination), including priority-0 ones.</summary>
    public long AdvertisementsSent { get; internal set; }

    /// <summary>Adverts that passed every check.</summary>
    public long AdvertisementsReceived { get; internal set; }
    public long PriorityZeroSent { get; internal set; }
    public long PriorityZeroReceived { get; internal set; }

    /// <summary>Priority-0 adverts a Master answered with an advert (the first from a sender at once, then at most one per advertisement interval per sender).</summary>
    public long PriorityZeroAnswered { get; internal set; }

    /// <summary>Priority-0 adverts a Master left unanswered because that sender (or too many senders) had an answer within the last interval.</summary>
    public long PriorityZeroIgnored { get; internal set; }
    public long BecameMaster { get; internal set; }
    public long ReleasedMaster { get; internal set; }
    public long GratuitousArpBursts { get; internal set; }

    public long Rejected(VrrpRejectReason reason) => (int)reason < _rejected.Length ? _rejected[(int)reason] : 0;

    public long TotalRejected { get; private set; }

    /// <summary>Non-zero rejection counters (a new dictionary on each read: callers that poll compare <see cref="TotalRejected"/> first).</summary>
    public IReadOnlyDictionary<VrrpRejectReason, long> RejectedByReason
    {
        get
        {
            var d = new Dictionary<VrrpRejectReason, long>();
            for (int r = 0; r < _rejected.Length; r++)
                if (_rejected[r] > 0) d[(VrrpRejectReason)r] = _rejected[r];
            return d;
        }
    }

    internal void Reject(VrrpRejectReason reason)
    {
        _rejected[(int)reason]++;
        TotalRejected++;
    }
}
