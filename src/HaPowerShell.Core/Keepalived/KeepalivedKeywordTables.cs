namespace HaPowerShell.Core.Keepalived;

/// <summary>
/// keepalived 2.2.7's keyword tables, as Debian builds it (LVS, VRRP, BFD, VMAC, ipvlan, nftables without
/// iptables, SNMP, D-Bus, linkbeat, track_process, regex): the same keywords in the same blocks and the same
/// order as the install_keyword calls of global_parser.c, vrrp_parser.c, check_parser.c, the checkers,
/// bfd_parser.c and track_file.c.
/// </summary>
internal static class KeepalivedKeywordTables
{
    private static KeywordHandler H(Action<KeepalivedParseContext, string[]> a) => (c, w) => { if (w is not null) a(c, w); };
    private static KeywordHandler R(Action<KeepalivedParseContext, string[]?> a) => (c, w) => a(c, w);

    public static KeywordTable Build()
    {
        var b = new KeywordTreeBuilder();
        Global(b);
        Vrrp(b);
        Check(b);
        Bfd(b);
        TrackFile(b);
        return b.Build();
    }

    private static void Global(KeywordTreeBuilder b)
    {
        const KeywordOwner g = KeywordOwner.Global;
        b.Root("linkbeat_use_polling", R((c, w) => c.LinkbeatUsePolling(w)), g);
        b.Root("net_namespace", R((c, w) => c.NetNamespace(w)), g);
        b.Root("net_namespace_ipvs", R((c, w) => c.NetNamespaceIpvs(w)), g);
        b.Root("namespace_with_ipsets", R((c, w) => c.RootFlag(w)), g);
        b.Root("use_pid_dir", R((c, w) => c.RootFlag(w)), g);
        b.Root("instance", R((c, w) => c.Instance(w)), g);
        b.Root("child_wait_time", R((c, w) => c.ChildWaitTime(w)), g);
        b.Root("global_defs", R((c, w) => c.GlobalDefs(w)), g);
        b.Kw("process_names", H((c, w) => c.ProcessNames(w)));
        b.Kw("process_name", H((c, w) => c.ProcessName(w)));
        b.Kw("vrrp_process_name", H((c, w) => c.ProcessName(w)));
        b.Kw("checker_process_name", H((c, w) => c.ProcessName(w)));
        b.Kw("lvs_process_name", H((c, w) => c.LvsProcessName(w)));
        b.Kw("bfd_process_name", H((c, w) => c.ProcessName(w)));
        b.Kw("router_id", H((c, w) => c.RouterId(w)));
        b.Kw("notification_email_from", H((c, w) => c.EmailFrom(w)));
        b.Kw("smtp_server", H((c, w) => c.SmtpServer(w)));
        b.Kw("smtp_helo_name", H((c, w) => c.SmtpHelo(w)));
        b.Kw("smtp_connect_timeout", H((c, w) => c.SmtpConnectTimeout(w)));
        b.Kw("notification_email", H((c, w) => c.NotificationEmail(w)));
        b.Kw("smtp_alert", H((c, w) => c.SmtpAlert(w)));
        b.Kw("startup_script", H((c, w) => c.StartupScript(w)));
        b.Kw("startup_script_timeout", H((c, w) => c.StartupScriptTimeout(w)));
        b.Kw("shutdown_script", H((c, w) => c.ShutdownScript(w)));
        b.Kw("shutdown_script_timeout", H((c, w) => c.ShutdownScriptTimeout(w)));
        b.Kw("max_auto_priority", H((c, w) => c.MaxAutoPriority(w)));
        b.Kw("min_auto_priority_delay", H((c, w) => c.MinAutoPriorityDelay(w)));
        b.Kw("smtp_alert_vrrp", H((c, w) => c.SmtpAlertVrrp(w)));
        b.Kw("smtp_alert_checker", H((c, w) => c.SmtpAlertChecker(w)));
        b.Kw("checker_log_all_failures", H((c, w) => c.CheckerLogAllFailures(w)));
        b.Kw("dynamic_interfaces", H((c, w) => c.DynamicInterfaces(w)));
        b.Kw("no_email_faults", H((c, w) => { }));
        b.Kw("default_interface", H((c, w) => c.DefaultInterface(w)));
        b.Kw("disable_local_igmp", H((c, w) => c.DisableLocalIgmp(w)));
        b.Kw("lvs_timeouts", H((c, w) => c.LvsTimeouts(w)));
        b.Kw("lvs_flush", H((c, w) => c.LvsFlush(w)));
        b.Kw("lvs_flush_on_stop", H((c, w) => c.LvsFlushOnStop(w)));
        b.Kw("lvs_flush_onstop", H((c, w) => c.LvsFlushOnStop(w)));
        b.Kw("lvs_sync_daemon", H((c, w) => c.LvsSyncDaemon(w)));
        b.Kw("vrrp_mcast_group4", H((c, w) => c.VrrpMcastGroup4(w)));
        b.Kw("vrrp_mcast_group6", H((c, w) => c.VrrpMcastGroup6(w)));
        b.Kw("vrrp_garp_master_delay", H((c, w) => c.VrrpGarpDelay(w)));
        b.Kw("vrrp_garp_master_repeat", H((c, w) => c.VrrpGarpRepeat(w)));
        b.Kw("vrrp_garp_master_refresh", H((c, w) => c.VrrpGarpRefresh(w)));
        b.Kw("vrrp_garp_master_refresh_repeat", H((c, w) => c.VrrpGarpRefreshRepeat(w)));
        b.Kw("vrrp_garp_lower_prio_delay", H((c, w) => c.VrrpGarpLowerPrioDelay(w)));
        b.Kw("vrrp_garp_lower_prio_repeat", H((c, w) => c.VrrpGarpLowerPrioRepeat(w)));
        b.Kw("vrrp_down_timer_adverts", H((c, w) => c.VrrpDownTimerAdverts(w)));
        b.Kw("vrrp_garp_interval", H((c, w) => c.VrrpGarpInterval(w)));
        b.Kw("vrrp_gna_interval", H((c, w) => c.VrrpGnaInterval(w)));
        b.Kw("vrrp_min_garp", H((c, w) => c.VrrpMinGarp(w)));
        b.Kw("vrrp_garp_extra_if", H((c, w) => c.VrrpGarpExtraIf(w)));
        b.Kw("vrrp_vmac_garp_intvl", H((c, w) => c.VrrpGarpExtraIf(w)));
        b.Kw("vrrp_lower_prio_no_advert", H((c, w) => c.VrrpLowerPrioNoAdvert(w)));
        b.Kw("vrrp_higher_prio_send_advert", H((c, w) => c.VrrpHigherPrioSendAdvert(w)));
        b.Kw("vrrp_version", H((c, w) => c.VrrpVersion(w)));
        b.Kw("vrrp_iptables", H((c, w) => c.VrrpIptables(w)));
        b.Kw("nftables", H((c, w) => c.Nftables(w)));
        b.Kw("nftables_priority", H((c, w) => c.NftablesPriority(w)));
        b.Kw("nftables_ifindex", H((c, w) => { }));
        b.Kw("nftables_ipvs", H((c, w) => c.NftablesIpvs(w)));
        b.Kw("nftables_ipvs_priority", H((c, w) => c.NftablesIpvsPriority(w)));
        b.Kw("nftables_ipvs_start_fwmark", H((c, w) => c.NftablesIpvsStartFwmark(w)));
        b.Kw("nftables_counters", H((c, w) => { }));
        b.Kw("vrrp_check_unicast_src", H((c, w) => c.Config.Global.VrrpCheckUnicastSource = true));
        b.Kw("vrrp_skip_check_adv_addr", H((c, w) => c.Config.Global.VrrpSkipCheckAdvertAddress = true));
        b.Kw("vrrp_strict", H((c, w) => c.Config.Global.VrrpStrict = true));
        b.Kw("vrrp_priority", H((c, w) => c.VrrpPriorityGlobal(w)));
        b.Kw("vrrp_no_swap", H((c, w) => c.Config.Global.VrrpNoSwap = true));
        b.Kw("vrrp_rt_priority", H((c, w) => c.VrrpRtPriority(w)));
        b.Kw("vrrp_cpu_affinity", H((c, w) => c.VrrpCpuAffinity(w)));
        b.Kw("vrrp_rlimit_rttime", H((c, w) => c.VrrpRtRlimit(w)));
        b.Kw("vrrp_rlimit_rtime", H((c, w) => c.VrrpRtRlimit(w)));
        b.Kw("notify_fifo", H((c, w) => c.GlobalNotifyFifo(w)));
        b.Kw("notify_fifo_script", H((c, w) => c.GlobalNotifyFifoScript(w)));
        b.Kw("vrrp_notify_fifo", H((c, w) => c.VrrpNotifyFifo(w)));
        b.Kw("vrrp_notify_fifo_script", H((c, w) => c.VrrpNotifyFifoScript(w)));
        b.Kw("vrrp_notify_priority_changes", H((c, w) => c.VrrpNotifyPriorityChanges(w)));
        b.Kw("fifo_write_vrrp_states_on_reload", H((c, w) => { }));
        b.Kw("lvs_notify_fifo", H((c, w) => c.LvsNotifyFifo(w)));
        b.Kw("lvs_notify_fifo_script", H((c, w) => c.LvsNotifyFifoScript(w)));
        b.Kw("checker_priority", H((c, w) => c.CheckerPriorityGlobal(w)));
        b.Kw("checker_no_swap", H((c, w) => c.Config.Global.CheckerNoSwap = true));
        b.Kw("checker_rt_priority", H((c, w) => c.CheckerRtPriority(w)));
        b.Kw("checker_cpu_affinity", H((c, w) => c.CheckerCpuAffinity(w)));
        b.Kw("checker_rlimit_rttime", H((c, w) => c.CheckerRtRlimit(w)));
        b.Kw("checker_rlimit_rtime", H((c, w) => c.CheckerRtRlimit(w)));
        b.Kw("bfd_priority", H((c, w) => c.BfdPriorityGlobal(w)));
        b.Kw("bfd_no_swap", H((c, w) => { }));
        b.Kw("bfd_rt_priority", H((c, w) => c.BfdRtPriority(w)));
        b.Kw("bfd_cpu_affinity", H((c, w) => c.BfdCpuAffinity(w)));
        b.Kw("bfd_rlimit_rttime", H((c, w) => c.BfdRtRlimit(w)));
        b.Kw("bfd_rlimit_rtime", H((c, w) => c.BfdRtRlimit(w)));
        b.Kw("snmp_socket", H((c, w) => c.SnmpSocket(w)));
        b.Kw("enable_traps", H((c, w) => { }));
        b.Kw("enable_snmp_vrrp", H((c, w) => c.Config.Global.EnableSnmpVrrp = true));
        b.Kw("enable_snmp_keepalived", H((c, w) => c.Config.Global.EnableSnmpVrrp = true));
        b.Kw("enable_snmp_rfc", H((c, w) => { }));
        b.Kw("enable_snmp_rfcv2", H((c, w) => { }));
        b.Kw("enable_snmp_rfcv3", H((c, w) => { }));
        b.Kw("enable_snmp_checker", H((c, w) => c.Config.Global.EnableSnmpChecker = true));
        b.Kw("enable_dbus", H((c, w) => c.Config.Global.EnableDbus = true));
        b.Kw("dbus_service_name", H((c, w) => c.DbusServiceName(w)));
        b.Kw("script_user", H((c, w) => c.ScriptUser(w)));
        b.Kw("enable_script_security", H((c, w) => c.ScriptSecurity(w)));
        b.Kw("vrrp_netlink_cmd_rcv_bufs", H((c, w) => c.VrrpNetlinkCmdRcvBufs(w)));
        b.Kw("vrrp_netlink_cmd_rcv_bufs_force", H((c, w) => c.GlobalBool(w)));
        b.Kw("vrrp_netlink_monitor_rcv_bufs", H((c, w) => c.VrrpNetlinkMonitorRcvBufs(w)));
        b.Kw("vrrp_netlink_monitor_rcv_bufs_force", H((c, w) => c.GlobalBool(w)));
        b.Kw("process_monitor_rcv_bufs", H((c, w) => c.ProcessMonitorRcvBufs(w)));
        b.Kw("process_monitor_rcv_bufs_force", H((c, w) => c.GlobalBool(w)));
        b.Kw("lvs_netlink_cmd_rcv_bufs", H((c, w) => c.LvsNetlinkCmdRcvBufs(w)));
        b.Kw("lvs_netlink_cmd_rcv_bufs_force", H((c, w) => c.GlobalBool(w)));
        b.Kw("lvs_netlink_monitor_rcv_bufs", H((c, w) => c.LvsNetlinkMonitorRcvBufs(w)));
        b.Kw("lvs_netlink_monitor_rcv_bufs_force", H((c, w) => c.GlobalBool(w)));
        b.Kw("rs_init_notifies", H((c, w) => c.GlobalBool(w)));
        b.Kw("no_checker_emails", H((c, w) => c.GlobalBool(w)));
        b.Kw("vrrp_rx_bufs_policy", H((c, w) => c.VrrpRxBufsPolicy(w)));
        b.Kw("vrrp_rx_bufs_multiplier", H((c, w) => c.VrrpRxBufsMultiplier(w)));
        b.Kw("vrrp_startup_delay", H((c, w) => c.VrrpStartupDelay(w)));
        b.Kw("log_unknown_vrids", H((c, w) => { }));
        b.Kw("vmac_prefix", H((c, w) => c.VmacPrefix(w)));
        b.Kw("vmac_addr_prefix", H((c, w) => c.VmacAddrPrefix(w)));
        b.Kw("umask", H((c, w) => c.Umask(w)));
        b.Kw("random_seed", H((c, w) => c.RandomSeed(w)));
        b.Kw("reload_check_config", H((c, w) => { }));
        b.Kw("reload_time_file", H((c, w) => c.ReloadTimeFile(w)));
        b.Kw("reload_repeat", H((c, w) => { }));
        b.Kw("reload_file", H((c, w) => { }));
        b.Kw("include_check", H((c, w) => c.IncludeCheck(w)));
        b.Kw("config_save_dir", H((c, w) => c.ConfigSaveDir(w)));
        b.Kw("tmp_config_directory", H((c, w) => c.TmpConfigDirectory(w)));
        b.Kw("data_use_instance", H((c, w) => c.GlobalBool(w)));
    }

    private static void Vrrp(KeywordTreeBuilder b)
    {
        const KeywordOwner v = KeywordOwner.Vrrp;
        b.Root("track_group", R((c, w) => c.StaticTrackGroup(w)), v);
        b.Kw("group", H((c, w) => c.StaticTrackGroupGroup(w)));

        b.Root("static_ipaddress", R((c, w) => c.StaticAddresses(w)), v);
        b.Root("static_routes", R((c, w) => c.StaticRoutes(w)), v);
        b.Root("static_rules", R((c, w) => c.StaticRules(w)), v);

        b.Root("vrrp_sync_group", R((c, w) => c.VrrpSyncGroup(w)), v);
        b.Kw("group", H((c, w) => c.VrrpSyncGroupGroup(w)));
        b.Kw("track_interface", H((c, w) => c.SyncGroupTrackInterface(w)));
        b.Kw("track_script", H((c, w) => c.SyncGroupTrackScript(w)));
        b.Kw("track_file", H((c, w) => c.SyncGroupTrackFile(w)));
        b.Kw("track_process", H((c, w) => c.SyncGroupTrackProcess(w)));
        b.Kw("track_bfd", H((c, w) => c.SyncGroupTrackBfd(w)));
        b.Kw("notify_backup", H((c, w) => c.SyncGroupNotifyBackup(w)));
        b.Kw("notify_master", H((c, w) => c.SyncGroupNotifyMaster(w)));
        b.Kw("notify_fault", H((c, w) => c.SyncGroupNotifyFault(w)));
        b.Kw("notify_stop", H((c, w) => c.SyncGroupNotifyStop(w)));
        b.Kw("notify", H((c, w) => c.SyncGroupNotify(w)));
        b.Kw("smtp_alert", H((c, w) => c.SyncGroupSmtp(w)));
        b.Kw("global_tracking", H((c, w) => c.SyncGroupGlobalTracking(w)));
        b.Kw("sync_group_tracking_weight", H((c, w) => c.SyncGroupTrackingWeight(w)));
        b.Kw("notify_priority_changes", H((c, w) => c.SyncGroupNotifyPriorityChanges(w)));

        b.Root("garp_group", R((c, w) => c.GarpGroup(w)), v);
        b.Kw("garp_interval", H((c, w) => c.GarpGroupGarpInterval(w)));
        b.Kw("gna_interval", H((c, w) => c.GarpGroupGnaInterval(w)));
        b.Kw("interface", H((c, w) => c.GarpGroupInterface(w)));
        b.Kw("interfaces", H((c, w) => c.GarpGroupInterfaces(w)));
        b.SubEndHandler(c => c.GarpGroupEnd(c));

        b.Root("linkbeat_interfaces", R((c, w) => c.LinkbeatInterfaces(w)), v);

        b.Root("vrrp_instance", R((c, w) => c.VrrpInstance(w)), v);
        b.RootEnd(c => c.VrrpInstanceEnd(c));
        b.Kw("use_vmac", H((c, w) => c.VrrpUseVmac(w)));
        b.Kw("use_vmac_addr", H((c, w) => c.VrrpUseVmacAddr(w)));
        b.Kw("vmac_xmit_base", H((c, w) => c.VrrpVmacXmitBase(w)));
        b.Kw("use_ipvlan", H((c, w) => c.VrrpUseIpvlan(w)));
        b.Kw("unicast_peer", H((c, w) => c.VrrpUnicastPeer(w)));
        b.Kw("unicast_fault_no_peer", H((c, w) => c.VrrpUnicastFaultNoPeer(w)));
        b.Kw("check_unicast_src", H((c, w) => c.VrrpCheckUnicastSrc(w)));
        b.Kw("old_unicast_checksum", H((c, w) => c.VrrpOldUnicastChecksum(w)));
        b.Kw("native_ipv6", H((c, w) => c.VrrpNativeIpv6(w)));
        b.Kw("state", H((c, w) => c.VrrpState(w)));
        b.Kw("interface", H((c, w) => c.VrrpInterface(w)));
        b.Kw("vrf", H((c, w) => c.VrrpVrf(w)));
        b.Kw("dont_track_primary", H((c, w) => c.VrrpDontTrackPrimary(w)));
        b.Kw("track_interface", H((c, w) => c.VrrpTrackInterface(w)));
        b.Kw("track_script", H((c, w) => c.VrrpTrackScript(w)));
        b.Kw("track_file", H((c, w) => c.VrrpTrackFile(w)));
        b.Kw("track_process", H((c, w) => c.VrrpTrackProcess(w)));
        b.Kw("track_bfd", H((c, w) => c.VrrpTrackBfd(w)));
        b.Kw("mcast_src_ip", H((c, w) => c.VrrpMcastSrcIp(w)));
        b.Kw("unicast_src_ip", H((c, w) => c.VrrpUnicastSrcIp(w)));
        b.Kw("mcast_dst_ip", H((c, w) => c.VrrpMcastDstIp(w)));
        b.Kw("track_src_ip", H((c, w) => c.VrrpTrackSrcIp(w)));
        b.Kw("virtual_router_id", H((c, w) => c.VrrpVrid(w)));
        b.Kw("unicast_ttl", H((c, w) => c.VrrpUnicastTtl(w)));
        b.Kw("version", H((c, w) => c.InstVersion(w)));
        b.Kw("priority", H((c, w) => c.VrrpPriority(w)));
        b.Kw("advert_int", H((c, w) => c.VrrpAdvertInt(w)));
        b.Kw("virtual_ipaddress", H((c, w) => c.VrrpVirtualIpaddress(w)));
        b.Kw("virtual_ipaddress_excluded", H((c, w) => c.VrrpVirtualIpaddressExcluded(w)));
        b.Kw("promote_secondaries", H((c, w) => c.VrrpPromoteSecondaries(w)));
        b.Kw("linkbeat_use_polling", H((c, w) => c.VrrpLinkbeatUsePolling(w)));
        b.Kw("virtual_routes", H((c, w) => c.VrrpVirtualRoutes(w)));
        b.Kw("virtual_rules", H((c, w) => c.VrrpVirtualRules(w)));
        b.Kw("accept", H((c, w) => c.VrrpAccept(w)));
        b.Kw("no_accept", H((c, w) => c.VrrpNoAccept(w)));
        b.Kw("skip_check_adv_addr", H((c, w) => c.VrrpSkipCheckAdvAddr(w)));
        b.Kw("strict_mode", H((c, w) => c.VrrpStrictMode(w)));
        b.Kw("preempt", H((c, w) => c.VrrpPreempt(w)));
        b.Kw("nopreempt", H((c, w) => c.VrrpNoPreempt(w)));
        b.Kw("preempt_delay", H((c, w) => c.VrrpPreemptDelay(w)));
        b.Kw("debug", H((c, w) => c.VrrpDebug(w)));
        b.Kw("notify_backup", H((c, w) => c.VrrpNotifyBackup(w)));
        b.Kw("notify_master", H((c, w) => c.VrrpNotifyMaster(w)));
        b.Kw("notify_fault", H((c, w) => c.VrrpNotifyFault(w)));
        b.Kw("notify_stop", H((c, w) => c.VrrpNotifyStop(w)));
        b.Kw("notify_deleted", H((c, w) => c.VrrpNotifyDeleted(w)));
        b.Kw("notify", H((c, w) => c.VrrpNotify(w)));
        b.Kw("notify_master_rx_lower_pri", H((c, w) => c.VrrpNotifyMasterRxLowerPri(w)));
        b.Kw("smtp_alert", H((c, w) => c.VrrpSmtpAlert(w)));
        b.Kw("notify_priority_changes", H((c, w) => c.InstNotifyPriorityChanges(w)));
        b.Kw("lvs_sync_daemon_interface", H((c, w) => c.VrrpLvsSyncDaemonInterface(w)));
        b.Kw("garp_master_delay", H((c, w) => c.VrrpGarpMasterDelay(w)));
        b.Kw("garp_master_refresh", H((c, w) => c.VrrpGarpMasterRefresh(w)));
        b.Kw("garp_master_repeat", H((c, w) => c.VrrpGarpMasterRepeat(w)));
        b.Kw("garp_master_refresh_repeat", H((c, w) => c.VrrpGarpMasterRefreshRepeat(w)));
        b.Kw("garp_lower_prio_delay", H((c, w) => c.InstGarpLowerPrioDelay(w)));
        b.Kw("garp_lower_prio_repeat", H((c, w) => c.InstGarpLowerPrioRepeat(w)));
        b.Kw("down_timer_adverts", H((c, w) => c.InstDownTimerAdverts(w)));
        b.Kw("garp_extra_if", H((c, w) => c.VrrpGarpExtraIfInstance(w)));
        b.Kw("vmac_garp_intvl", H((c, w) => c.VrrpGarpExtraIfInstance(w)));
        b.Kw("lower_prio_no_advert", H((c, w) => c.InstLowerPrioNoAdvert(w)));
        b.Kw("higher_prio_send_advert", H((c, w) => c.InstHigherPrioSendAdvert(w)));
        b.Kw("kernel_rx_buf_size", H((c, w) => c.VrrpKernelRxBufSize(w)));
        b.Kw("authentication", H((c, w) => c.VrrpAuthentication(w)));
        b.Sub();
        b.Kw("auth_type", H((c, w) => c.VrrpAuthType(w)));
        b.Kw("auth_pass", H((c, w) => c.VrrpAuthPass(w)));
        b.SubEnd();

        b.Root("vrrp_script", R((c, w) => c.VrrpScript(w)), v);
        b.Kw("script", H((c, w) => c.VrrpScriptScript(w)));
        b.Kw("interval", H((c, w) => c.VrrpScriptInterval(w)));
        b.Kw("timeout", H((c, w) => c.VrrpScriptTimeout(w)));
        b.Kw("weight", H((c, w) => c.VrrpScriptWeight(w)));
        b.Kw("rise", H((c, w) => c.VrrpScriptRise(w)));
        b.Kw("fall", H((c, w) => c.VrrpScriptFall(w)));
        b.Kw("user", H((c, w) => c.VrrpScriptUser(w)));
        b.Kw("init_fail", H((c, w) => c.VrrpScriptInitFail(w)));
        b.SubEndHandler(c => c.VrrpScriptEnd(c));

        b.Root("vrrp_track_process", R((c, w) => c.VrrpTrackProcessBlock(w)), v);
        b.Kw("process", H((c, w) => c.TrackProcessProcess(w)));
        b.Kw("param_match", H((c, w) => c.TrackProcessParamMatch(w)));
        b.Kw("weight", H((c, w) => c.TrackProcessWeight(w)));
        b.Kw("quorum", H((c, w) => c.TrackProcessQuorum(w)));
        b.Kw("quorum_max", H((c, w) => c.TrackProcessQuorumMax(w)));
        b.Kw("delay", H((c, w) => c.TrackProcessDelay(w)));
        b.Kw("terminate_delay", H((c, w) => c.TrackProcessTerminateDelay(w)));
        b.Kw("fork_delay", H((c, w) => c.TrackProcessForkDelay(w)));
        b.Kw("full_command", H((c, w) => c.TrackProcessFullCommand(w)));
        b.SubEndHandler(c => c.TrackProcessEnd(c));

        b.Root("interface_up_down_delays", R((c, w) => c.InterfaceUpDownDelays(w)), v);
    }

    private static void CommonChecker(KeywordTreeBuilder b, bool connection)
    {
        if (connection)
        {
            b.Kw("connect_ip", H((c, w) => c.CoConnectIp(w)));
            b.Kw("connect_port", H((c, w) => c.CoConnectPort(w)));
            b.Kw("bindto", H((c, w) => c.CoBindTo(w)));
            b.Kw("bind_port", H((c, w) => c.CoBindPort(w)));
            b.Kw("bind_if", H((c, w) => c.CoBindIf(w)));
            b.Kw("connect_timeout", H((c, w) => c.CoConnectTimeout(w)));
            b.Kw("fwmark", H((c, w) => c.CoFwmark(w)));
        }
        b.Kw("retry", H((c, w) => c.CkRetry(w)));
        b.Kw("delay_before_retry", H((c, w) => c.CkDelayBeforeRetry(w)));
        b.Kw("warmup", H((c, w) => c.CkWarmup(w)));
        b.Kw("delay_loop", H((c, w) => c.CkDelayLoop(w)));
        b.Kw("alpha", H((c, w) => c.CkAlpha(w)));
        b.Kw("log_all_failures", H((c, w) => c.CkLogAllFailures(w)));
    }

    private static void HttpSsl(KeywordTreeBuilder b, string keyword)
    {
        b.Kw(keyword, H((c, w) => c.HttpGet(w)));
        b.Sub();
        CommonChecker(b, true);
        b.Kw("nb_get_retry", H((c, w) => c.HttpNbGetRetry(w)));
        b.Kw("virtualhost", H((c, w) => c.HttpVirtualhost(w)));
        b.Kw("http_protocol", H((c, w) => c.HttpProtocol(w)));
        b.Kw("enable_sni", H((c, w) => c.HttpEnableSni(w)));
        b.Kw("fast_recovery", H((c, w) => c.HttpFastRecovery(w)));
        b.Kw("url", H((c, w) => c.HttpUrl(w)));
        b.Sub();
        b.Kw("path", H((c, w) => c.UrlPath(w)));
        b.Kw("digest", H((c, w) => c.UrlDigest(w)));
        b.Kw("status_code", H((c, w) => c.UrlStatusCode(w)));
        b.Kw("virtualhost", H((c, w) => c.UrlVirtualhost(w)));
        b.Kw("regex", H((c, w) => c.UrlRegex(w)));
        b.Kw("regex_no_match", H((c, w) => c.UrlRegexNoMatch(w)));
        b.Kw("regex_options", H((c, w) => c.UrlRegexOptions(w)));
        b.Kw("regex_min_offset", H((c, w) => c.UrlRegexOffset(w)));
        b.Kw("regex_max_offset", H((c, w) => c.UrlRegexOffset(w)));
        b.Kw("regex_stack", H((c, w) => c.UrlRegexStack(w)));
        b.SubEndHandler(c => c.UrlEnd(c));
        b.SubEnd();
        b.SubEndHandler(c => c.HttpGetEnd(c));
        b.SubEnd();
    }

    private static void Check(KeywordTreeBuilder b)
    {
        const KeywordOwner k = KeywordOwner.Check;
        b.Root("SSL", R((c, w) => c.Ssl(w)), k);
        b.Kw("password", H((c, w) => c.SslPassword(w)));
        b.Kw("ca", H((c, w) => c.SslCa(w)));
        b.Kw("certificate", H((c, w) => c.SslCertificate(w)));
        b.Kw("key", H((c, w) => c.SslKey(w)));

        b.Root("virtual_server_group", R((c, w) => c.VirtualServerGroup(w)), k);
        b.Root("virtual_server", R((c, w) => c.VirtualServer(w)), k);
        b.RootEnd(c => c.VirtualServerEnd(c));
        b.Kw("ip_family", H((c, w) => c.VsIpFamily(w)));
        b.Kw("retry", H((c, w) => c.VsRetry(w)));
        b.Kw("delay_before_retry", H((c, w) => c.VsDelayBeforeRetry(w)));
        b.Kw("warmup", H((c, w) => c.VsWarmup(w)));
        b.Kw("connect_timeout", H((c, w) => c.VsConnectTimeout(w)));
        b.Kw("delay_loop", H((c, w) => c.VsDelayLoop(w)));
        b.Kw("inhibit_on_failure", H((c, w) => c.VsInhibitOnFailure(w)));
        b.Kw("lb_algo", H((c, w) => c.VsLbAlgo(w)));
        b.Kw("lvs_sched", H((c, w) => c.VsLbAlgo(w)));
        b.Kw("hashed", H((c, w) => c.VsLbFlags(w)));
        b.Kw("ops", H((c, w) => c.VsLbFlags(w)));
        b.Kw("flag-1", H((c, w) => c.VsLbFlags(w)));
        b.Kw("flag-2", H((c, w) => c.VsLbFlags(w)));
        b.Kw("flag-3", H((c, w) => c.VsLbFlags(w)));
        b.Kw("sh-port", H((c, w) => c.VsLbFlags(w)));
        b.Kw("sh-fallback", H((c, w) => c.VsLbFlags(w)));
        b.Kw("mh-port", H((c, w) => c.VsLbFlags(w)));
        b.Kw("mh-fallback", H((c, w) => c.VsLbFlags(w)));
        b.Kw("lb_kind", H((c, w) => c.VsLbKind(w)));
        b.Kw("lvs_method", H((c, w) => c.VsLbKind(w)));
        b.Kw("persistence_engine", H((c, w) => c.VsPersistenceEngine(w)));
        b.Kw("persistence_timeout", H((c, w) => c.VsPersistenceTimeout(w)));
        b.Kw("persistence_granularity", H((c, w) => c.VsPersistenceGranularity(w)));
        b.Kw("protocol", H((c, w) => c.VsProtocol(w)));
        b.Kw("ha_suspend", H((c, w) => c.VsHaSuspend(w)));
        b.Kw("smtp_alert", H((c, w) => c.VsSmtpAlert(w)));
        b.Kw("virtualhost", H((c, w) => c.VsVirtualhost(w)));
        b.Kw("snmp_name", H((c, w) => c.VsSnmpName(w)));
        b.Kw("alpha", H((c, w) => c.VsAlpha(w)));
        b.Kw("omega", H((c, w) => c.VsOmega(w)));
        b.Kw("quorum_up", H((c, w) => c.VsQuorumUp(w)));
        b.Kw("quorum_down", H((c, w) => c.VsQuorumDown(w)));
        b.Kw("quorum", H((c, w) => c.VsQuorum(w)));
        b.Kw("hysteresis", H((c, w) => c.VsHysteresis(w)));
        b.Kw("weight", H((c, w) => c.VsWeight(w)));
        b.Kw("sorry_server", H((c, w) => c.VsSorryServer(w)));
        b.Kw("sorry_server_inhibit", H((c, w) => c.VsSorryServerInhibit(w)));
        b.Kw("sorry_server_lvs_method", H((c, w) => c.VsSorryServerLvsMethod(w)));
        b.Kw("real_server", H((c, w) => c.RealServer(w)));
        b.Sub();
        b.Kw("weight", H((c, w) => c.RsWeight(w)));
        b.Kw("lvs_method", H((c, w) => c.RsLvsMethod(w)));
        b.Kw("uthreshold", H((c, w) => c.RsUpperThreshold(w)));
        b.Kw("lthreshold", H((c, w) => c.RsLowerThreshold(w)));
        b.Kw("inhibit_on_failure", H((c, w) => c.RsInhibitOnFailure(w)));
        b.Kw("notify_up", H((c, w) => c.RsNotifyUp(w)));
        b.Kw("notify_down", H((c, w) => c.RsNotifyDown(w)));
        b.Kw("alpha", H((c, w) => c.RsAlpha(w)));
        b.Kw("retry", H((c, w) => c.RsRetry(w)));
        b.Kw("delay_before_retry", H((c, w) => c.RsDelayBeforeRetry(w)));
        b.Kw("warmup", H((c, w) => c.RsWarmup(w)));
        b.Kw("connect_timeout", H((c, w) => c.RsConnectTimeout(w)));
        b.Kw("delay_loop", H((c, w) => c.RsDelayLoop(w)));
        b.Kw("smtp_alert", H((c, w) => c.RsSmtpAlert(w)));
        b.Kw("virtualhost", H((c, w) => c.RsVirtualhost(w)));
        b.Kw("snmp_name", H((c, w) => c.RsSnmpName(w)));
        b.SubEndHandler(c => c.RealServerEnd(c));

        // install_checkers_keyword(): MISC, SMTP, TCP, PING, UDP, HTTP, SSL, DNS, FILE, BFD
        b.Kw("MISC_CHECK", H((c, w) => c.MiscCheck(w)));
        b.Sub();
        CommonChecker(b, false);
        b.Kw("misc_path", H((c, w) => c.MiscPath(w)));
        b.Kw("misc_timeout", H((c, w) => c.MiscTimeout(w)));
        b.Kw("misc_dynamic", H((c, w) => c.MiscDynamic(w)));
        b.Kw("user", H((c, w) => c.MiscUser(w)));
        b.SubEndHandler(c => c.MiscEnd(c));
        b.SubEnd();

        b.Kw("SMTP_CHECK", H((c, w) => c.SmtpCheck(w)));
        b.Sub();
        b.Kw("helo_name", H((c, w) => c.SmtpHeloName(w)));
        CommonChecker(b, true);
        b.Kw("host", H((c, w) => c.SmtpHost(w)));
        b.Sub();
        CommonChecker(b, true);
        b.SubEndHandler(c => c.SmtpHostEnd(c));
        b.SubEnd();
        b.SubEndHandler(c => c.SmtpEnd(c));
        b.SubEnd();

        b.Kw("TCP_CHECK", H((c, w) => c.TcpCheck(w)));
        b.Sub();
        CommonChecker(b, true);
        b.SubEndHandler(c => c.ConnEnd(c));
        b.SubEnd();

        b.Kw("PING_CHECK", H((c, w) => c.PingCheck(w)));
        b.Sub();
        CommonChecker(b, true);
        b.SubEndHandler(c => c.ConnEnd(c));
        b.SubEnd();

        b.Kw("UDP_CHECK", H((c, w) => c.UdpCheck(w)));
        b.Sub();
        CommonChecker(b, true);
        b.Kw("payload", H((c, w) => c.UdpPayload(w)));
        b.Kw("require_reply", H((c, w) => c.UdpRequireReply(w)));
        b.Kw("min_reply_length", H((c, w) => c.UdpMinReplyLength(w)));
        b.Kw("max_reply_length", H((c, w) => c.UdpMaxReplyLength(w)));
        b.SubEndHandler(c => c.UdpEnd(c));
        b.SubEnd();

        HttpSsl(b, "HTTP_GET");
        HttpSsl(b, "SSL_GET");

        b.Kw("DNS_CHECK", H((c, w) => c.DnsCheck(w)));
        b.Sub();
        CommonChecker(b, true);
        b.Kw("type", H((c, w) => c.DnsType(w)));
        b.Kw("name", H((c, w) => c.DnsName(w)));
        b.SubEndHandler(c => c.DnsEnd(c));
        b.SubEnd();

        b.Kw("FILE_CHECK", H((c, w) => c.FileCheck(w)));
        b.Sub();
        b.Kw("track_file", H((c, w) => c.FileCheckTrackFile(w)));
        b.Kw("weight", H((c, w) => c.FileCheckWeight(w)));
        b.SubEndHandler(c => c.FileCheckEnd(c));
        b.SubEnd();

        b.Kw("BFD_CHECK", H((c, w) => c.BfdCheck(w)));
        b.Sub();
        b.Kw("name", H((c, w) => c.BfdCheckName(w)));
        b.Kw("alpha", H((c, w) => c.BfdCheckAlpha(w)));
        b.SubEndHandler(c => c.BfdCheckEnd(c));
        b.SubEnd();

        b.SubEnd();
    }

    private static void Bfd(KeywordTreeBuilder b)
    {
        b.Root("bfd_instance", R((c, w) => c.BfdInstance(w)), KeywordOwner.Bfd);
        b.SubEndHandler(c => c.BfdInstanceEnd(c));
        b.Kw("source_ip", H((c, w) => c.BfdSource(w)));
        b.Kw("neighbor_ip", H((c, w) => c.BfdNeighbor(w)));
        b.Kw("neighbour_ip", H((c, w) => c.BfdNeighbor(w)));
        b.Kw("min_rx", H((c, w) => c.BfdMinRx(w)));
        b.Kw("min_tx", H((c, w) => c.BfdMinTx(w)));
        b.Kw("idle_tx", H((c, w) => c.BfdIdleTx(w)));
        b.Kw("multiplier", H((c, w) => c.BfdMultiplier(w)));
        b.Kw("passive", H((c, w) => c.BfdPassive(w)));
        b.Kw("ttl", H((c, w) => c.BfdTtl(w)));
        b.Kw("hoplimit", H((c, w) => c.BfdTtl(w)));
        b.Kw("max_hops", H((c, w) => c.BfdMaxHops(w)));
        b.Kw("weight", H((c, w) => c.BfdWeight(w)));
        b.Kw("vrrp", H((c, w) => c.BfdEventVrrp(w)));
        b.Kw("checker", H((c, w) => c.BfdEventChecker(w)));
    }

    private static void TrackFile(KeywordTreeBuilder b)
    {
        b.Root("track_file", R((c, w) => c.TrackFileBlock(w)), KeywordOwner.TrackFile);
        b.Kw("file", H((c, w) => c.TrackFileFile(w)));
        b.Kw("weight", H((c, w) => c.TrackFileWeight(w)));
        b.Kw("init_file", H((c, w) => c.TrackFileInit(w)));
        b.SubEndHandler(c => c.TrackFileEnd(c));
        b.Root("vrrp_track_file", R((c, w) => c.VrrpTrackFileBlock(w)), KeywordOwner.TrackFile);
        b.Kw("file", H((c, w) => c.TrackFileFile(w)));
        b.Kw("weight", H((c, w) => c.TrackFileWeight(w)));
        b.Kw("init_file", H((c, w) => c.TrackFileInit(w)));
        b.SubEndHandler(c => c.TrackFileEnd(c));
    }
}
