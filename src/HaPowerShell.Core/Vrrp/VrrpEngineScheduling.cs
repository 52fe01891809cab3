namespace HaPowerShell.Core.Vrrp;

/// <summary>
/// How the engine thread should be scheduled: SCHED_RR at <see cref="RealtimePriority"/> (keepalived's
/// vrrp_rt_priority) or the normal policy at nice <see cref="Nice"/> (keepalived's vrrp_priority). One of
/// the two. A real-time thread is woken ahead of every normal one, so timers and the first advert of a
/// takeover do not wait behind other work on a busy machine.
/// </summary>
public sealed record VrrpEngineScheduling
{
    /// <summary>Nice value, -20 (most favoured) to 19 (<see cref="VrrpField.EnginePriority"/>).</summary>
    public int? Nice { get; init; }

    /// <summary>SCHED_RR priority, 1 to 99 (<see cref="VrrpField.EngineRealtimePriority"/>).</summary>
    public int? RealtimePriority { get; init; }

    /// <summary>"SCHED_RR 10" or "nice 5", as <see cref="HaPowerShell.Native.Processes.ThreadScheduling"/> shows the result.</summary>
    public override string ToString() => RealtimePriority is int rt ? $"SCHED_RR {rt}" : $"nice {Nice}";

    /// <summary>The problem with this request, or null when it can be applied.</summary>
    public VrrpConfigError? Validate()
    {
        if (Nice is not null && RealtimePriority is not null)
            return new("VrrpEngineSchedulingInvalid", VrrpField.EngineRealtimePriority,
                "Give {EnginePriority} (a nice value) or {EngineRealtimePriority} (SCHED_RR), not both: a real-time thread has no nice value.");
        if (Nice is null && RealtimePriority is null)
            return new("VrrpEngineSchedulingInvalid", VrrpField.EnginePriority, "Give {EnginePriority} or {EngineRealtimePriority}.");
        if (Nice is < -20 or > 19)
            return new("VrrpEngineSchedulingInvalid", VrrpField.EnginePriority, $"{{EnginePriority}} {Nice} is outside -20 to 19 (a nice value; lower runs sooner).", Nice.ToString());
        if (RealtimePriority is < 1 or > 99)
            return new("VrrpEngineSchedulingInvalid", VrrpField.EngineRealtimePriority, $"{{EngineRealtimePriority}} {RealtimePriority} is outside 1 to 99 (a SCHED_RR priority).", RealtimePriority.ToString());
        return null;
    }
}
