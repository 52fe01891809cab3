# Health checks: Invoke-MiscCheck, Invoke-TcpCheck, Invoke-HttpCheck.
# Untagged: run anywhere (scripts in TestDrive; TCP and HTTP against listeners on 127.0.0.1).
# Root: script safety and -User (needs root), TCP checks inside network namespaces (NetnsLab).
# Traffic stays on loopback or in namespaces this file made; documentation addresses only.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force
    $script:LabSupported = Test-LabEnvironment
    $script:IsRoot = (& id -u) -eq '0'
    $script:HavePython = [bool](Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue)
    $script:HaveOpenssl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module $env:HAPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot '../lab/NetnsLab.psm1') -Force

    function Get-ErrorOf([scriptblock]$Script) {
        $errors = [System.Collections.Generic.List[object]]::new()
        $out = @()
        try {
            $out = @(& $Script 2>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) } else { $_ } })
        } catch { $errors.Add($_) }
        [pscustomobject]@{ Output = $out; Errors = $errors.ToArray() }
    }

    function New-Script([string]$Name, [string]$Body, [string]$Mode = '755', [string]$Directory = $TestDrive) {
        $p = Join-Path $Directory $Name
        [IO.File]::WriteAllText($p, "#!/bin/sh`n$Body`n")
        & chmod $Mode $p
        $p
    }

    # Every process of a session or process group, zombies included, from /proc.
    function Get-SessionProcess([int]$SessionId) {
        foreach ($d in [IO.Directory]::GetDirectories('/proc')) {
            $name = [IO.Path]::GetFileName($d)
            if ($name -notmatch '^\d+$') { continue }
            try { $s = [IO.File]::ReadAllText("$d/stat") } catch { continue }
            $f = $s.Substring($s.LastIndexOf(')') + 2).Split(' ')
            if ([int]$f[2] -eq $SessionId -or [int]$f[3] -eq $SessionId) {
                [pscustomobject]@{ Pid = [int]$name; State = $f[0]; Parent = [int]$f[1]; Stat = $s }
            }
        }
    }

    function Get-FreePort {
        $l = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0)
        $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p
    }

    # TestDrive as a root-owned 0755 tree, so the script-safety rules accept it
    & chmod 755 $TestDrive
}

Describe 'Invoke-MiscCheck exit statuses' {
    BeforeAll { $script:CodeScript = New-Script 'code.sh' 'exit "$1"' }

    It 'exit <Code> with -Dynamic:<Dynamic> is Success=<Success>, Weight=<Weight>' -ForEach @(
        @{ Code = 0; Dynamic = $false; Success = $true; Weight = $null }
        @{ Code = 0; Dynamic = $true; Success = $true; Weight = $null }
        @{ Code = 1; Dynamic = $false; Success = $false; Weight = $null }
        @{ Code = 1; Dynamic = $true; Success = $false; Weight = $null }
        @{ Code = 2; Dynamic = $false; Success = $false; Weight = $null }
        @{ Code = 2; Dynamic = $true; Success = $true; Weight = 0 }
        @{ Code = 3; Dynamic = $true; Success = $true; Weight = 1 }
        @{ Code = 102; Dynamic = $true; Success = $true; Weight = 100 }
        @{ Code = 254; Dynamic = $true; Success = $true; Weight = 252 }
        @{ Code = 255; Dynamic = $true; Success = $true; Weight = 253 }
        @{ Code = 255; Dynamic = $false; Success = $false; Weight = $null }
    ) {
        $r = Invoke-MiscCheck -Path $CodeScript -ArgumentList $Code -Dynamic:$Dynamic
        $r | Should -BeOfType HaPowerShell.Core.Health.MiscCheckResult
        $r.ExitCode | Should -Be $Code
        $r.Success | Should -Be $Success
        $r.Weight | Should -Be $Weight
        $r.TimedOut | Should -BeFalse
        $r.Dynamic | Should -Be $Dynamic
    }

    It 'passes arguments unchanged, without a shell, and captures output' {
        $echo = New-Script 'echo.sh' 'printf "%s|" "$@"; echo err >&2'
        $r = Invoke-MiscCheck $echo -ArgumentList 'a b', '$HOME', '*'
        $r.Output | Should -Be 'a b|$HOME|*|'
        $r.ErrorOutput.Trim() | Should -Be 'err'
        $r.Success | Should -BeTrue
    }

    It 'runs a shell command line with -UseShell' {
        $r = Invoke-MiscCheck -UseShell 'test "$1" = yes && exit 7' -ArgumentList yes -Dynamic
        $r.Weight | Should -Be 5
    }

    It 'shows a table whose headers are the properties: Success False for a failed check' {
        $text = Invoke-MiscCheck $CodeScript 1 | Out-String
        $text | Should -Match '(?m)^Success ExitCode'
        $text | Should -Match '(?m)^False\s+1\s'
    }
}

Describe 'Invoke-MiscCheck timeouts' {
    It 'kills a script that forks a child and sleeps, and leaves no process (or zombie) behind' {
        $fork = New-Script 'fork.sh' "sleep 300 &`nsleep 300"
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r = Invoke-MiscCheck $fork -Timeout 1
        $sw.Stop()
        $r.Success | Should -BeFalse
        $r.TimedOut | Should -BeTrue
        $r.Signal | Should -Be 15
        $r.Message | Should -Match 'timed out'
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 30
        @(Get-SessionProcess $r.ProcessId) | Should -BeNullOrEmpty -Because 'the group was killed and reaped'
    }

    It 'sends SIGKILL when SIGTERM is ignored, and still leaves nothing' {
        $stubborn = New-Script 'stubborn.sh' "trap '' TERM`n(trap '' TERM; sleep 300) &`nwhile :; do sleep 1; done"
        $r = Invoke-MiscCheck $stubborn -Timeout 0.5
        $r.TimedOut | Should -BeTrue
        $r.Success | Should -BeFalse
        $r.Duration | Should -BeGreaterThan 2 -Because 'SIGKILL comes two seconds after SIGTERM'
        @(Get-SessionProcess $r.ProcessId) | Should -BeNullOrEmpty
    }

    It 'ends what a script leaves running when it exits' {
        $bg = New-Script 'bg.sh' "sleep 300 >/dev/null 2>&1 &`nexit 0"
        $r = Invoke-MiscCheck $bg -Timeout 5
        $r.Success | Should -BeTrue
        @(Get-SessionProcess $r.ProcessId) | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-MiscCheck errors' {
    It '<Case> is refused as <Id> (<Category>)' -ForEach @(
        @{ Case = 'a missing script'; Id = 'ScriptNotFound'; Category = 'ObjectNotFound'; Make = { Join-Path $TestDrive 'nope.sh' }; Extra = @{} }
        @{ Case = 'a name not in PATH'; Id = 'ScriptNotFound'; Category = 'ObjectNotFound'; Make = { 'no-such-check-program' }; Extra = @{} }
        @{ Case = 'a non-executable script'; Id = 'ScriptNotExecutable'; Category = 'PermissionDenied'; Make = { New-Script 'noexec.sh' 'exit 0' '644' }; Extra = @{} }
        @{ Case = 'a directory'; Id = 'ScriptNotExecutable'; Category = 'PermissionDenied'; Make = { $TestDrive }; Extra = @{} }
        @{ Case = 'a zero timeout'; Id = 'InvalidTimeout'; Category = 'InvalidArgument'; Make = { New-Script 't0.sh' 'exit 0' }; Extra = @{ Timeout = 0 } }
        @{ Case = 'a negative timeout'; Id = 'InvalidTimeout'; Category = 'InvalidArgument'; Make = { New-Script 't1.sh' 'exit 0' }; Extra = @{ Timeout = -1 } }
        @{ Case = 'an unknown user'; Id = 'UserNotFound'; Category = 'ObjectNotFound'; Make = { New-Script 'u.sh' 'exit 0' }; Extra = @{ User = 'no-such-user-hc' } }
    ) {
        $path = & $Make
        $r = Get-ErrorOf { Invoke-MiscCheck -Path $path @Extra }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors.Count | Should -Be 1
        $r.Errors[0].FullyQualifiedErrorId | Should -Be "$Id,HaPowerShell.Commands.Health.InvokeMiscCheckCommand"
        $r.Errors[0].CategoryInfo.Category | Should -Be $Category
        $r.Errors[0].Exception.Message | Should -Not -BeNullOrEmpty
    }

    It 'a failing item does not stop the pipeline' {
        $ok = New-Script 'ok.sh' 'exit 0'
        $r = Get-ErrorOf { [pscustomobject]@{ Path = '/nonexistent/x' }, [pscustomobject]@{ Path = $ok } | Invoke-MiscCheck }
        $r.Errors.Count | Should -Be 1
        $r.Output.Count | Should -Be 1
        $r.Output[0].Success | Should -BeTrue
    }
}

Describe 'Invoke-MiscCheck script safety and users' -Tag 'Root' -Skip:(-not $IsRoot) {
    It 'refuses a world-writable script, naming it' {
        $p = New-Script 'ww.sh' 'exit 0' '757'
        $r = Get-ErrorOf { Invoke-MiscCheck $p }
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InsecureScript,*'
        $r.Errors[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $r.Errors[0].Exception.Message | Should -Match ([regex]::Escape("'$p'"))
        $r.Errors[0].Exception.Message | Should -Match 'world-writable'
    }

    It 'refuses a script owned by a non-root user' {
        $p = New-Script 'owned.sh' 'exit 0'
        & chown nobody $p
        $r = Get-ErrorOf { Invoke-MiscCheck $p }
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InsecureScript,*'
        $r.Errors[0].Exception.Message | Should -Match 'owned by uid'
    }

    It 'refuses a script in a directory a non-root user could change, naming the directory' {
        $dir = Join-Path $TestDrive 'userdir'
        $null = New-Item -ItemType Directory $dir
        $p = New-Script 'c.sh' 'exit 0' '755' $dir
        & chown nobody $dir
        $r = Get-ErrorOf { Invoke-MiscCheck $p }
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InsecureScript,*'
        $r.Errors[0].TargetObject | Should -Be $dir
        $r.Errors[0].Exception.Message | Should -Match ([regex]::Escape("('$dir')"))
    }

    It 'follows a symbolic link to an unsafe target' {
        $dir = Join-Path $TestDrive 'grpdir'
        $null = New-Item -ItemType Directory $dir
        $target = New-Script 't.sh' 'exit 0' '755' $dir
        & chmod 775 $dir
        $link = Join-Path $TestDrive 'link.sh'
        $null = New-Item -ItemType SymbolicLink -Path $link -Target $target
        $r = Get-ErrorOf { Invoke-MiscCheck $link }
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InsecureScript,*'
        $r.Errors[0].Exception.Message | Should -Match 'group-writable'
    }

    It 'runs as nobody by default (no keepalived_script account) and as root when asked' {
        $who = New-Script 'who.sh' 'id -u'
        $default = Invoke-MiscCheck $who
        $expected = if (Get-Content /etc/passwd | Select-String '^keepalived_script:') { 'keepalived_script' } else { 'nobody' }
        $default.User | Should -Be $expected
        $default.Output.Trim() | Should -Not -Be '0'
        (Invoke-MiscCheck $who -User root).Output.Trim() | Should -Be '0'
        $n = Invoke-MiscCheck $who -User nobody
        $n.Output.Trim() | Should -Be (& id -u nobody)
    }
}

Describe 'Invoke-TcpCheck on loopback' {
    BeforeAll {
        $script:Listener = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0)
        $script:Listener.Start(16)
        $script:OpenPort = $script:Listener.LocalEndpoint.Port
        $script:ClosedPort = Get-FreePort
    }
    AfterAll { $script:Listener.Stop() }

    It 'succeeds against a listener' {
        $r = Invoke-TcpCheck -Address 127.0.0.1 -Port $OpenPort
        $r | Should -BeOfType HaPowerShell.Core.Health.TcpCheckResult
        $r.Success | Should -BeTrue
        $r.Attempts | Should -Be 1
        $r.Target | Should -Be "127.0.0.1:$OpenPort"
        $r.Weight | Should -BeNullOrEmpty
    }

    It 'fails on a closed port, retrying with the delay' {
        $r = Invoke-TcpCheck 127.0.0.1 $ClosedPort -Retry 2 -DelayBeforeRetry 0.2 -ConnectTimeout 1
        $r.Success | Should -BeFalse
        $r.SocketError | Should -Be 'ConnectionRefused'
        $r.Attempts | Should -Be 3
        $r.Message | Should -Match 'ConnectionRefused'
    }

    It 'binds to -BindAddress' {
        (Invoke-TcpCheck 127.0.0.1 $OpenPort -BindAddress 127.0.0.1).Success | Should -BeTrue
        (Invoke-TcpCheck 127.0.0.1 $OpenPort -BindAddress 192.0.2.99).Success | Should -BeFalse
    }

    It 'checks real servers from the pipeline, with -Port overriding their port (connect_port)' {
        $svc = [HaPowerShell.Core.Ipvs.IpvsService]@{ Protocol = 'Tcp'; Address = [ipaddress]'192.0.2.30'; Port = $OpenPort }
        $up = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = [ipaddress]'127.0.0.1'; Port = $OpenPort }
        $down = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = [ipaddress]'127.0.0.1'; Port = $ClosedPort }
        $fwm = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = [ipaddress]'127.0.0.1'; Port = 0 }
        $r = @($up, $down, $fwm | Invoke-TcpCheck -ConnectTimeout 1)
        $r.Count | Should -Be 3
        $r.Success | Should -Be @($true, $false, $true)
        $r[0].RealServer | Should -Be $up
        $r[2].Port | Should -Be $OpenPort -Because 'port 0 falls back to the service port'
        $o = @($up, $down | Invoke-TcpCheck -Port $ClosedPort -ConnectTimeout 1)
        $o.Success | Should -Be @($false, $false)
        $o.Port | Should -Be @($ClosedPort, $ClosedPort)
    }

    It 'binds Address and Port by property name from other objects' {
        $r = [pscustomobject]@{ Address = '127.0.0.1'; Port = $OpenPort } | Invoke-TcpCheck
        $r.Success | Should -BeTrue
    }

    It 'refuses <Case> as <Id>' -ForEach @(
        @{ Case = 'port 0'; Id = 'InvalidPort'; Params = @{ Address = '127.0.0.1'; Port = 0 } }
        @{ Case = 'port 65536'; Id = 'InvalidPort'; Params = @{ Address = '127.0.0.1'; Port = 65536 } }
        @{ Case = 'no port'; Id = 'InvalidPort'; Params = @{ Address = '127.0.0.1' } }
        @{ Case = 'a zero timeout'; Id = 'InvalidTimeout'; Params = @{ Address = '127.0.0.1'; Port = 80; ConnectTimeout = 0 } }
        @{ Case = 'a negative timeout'; Id = 'InvalidTimeout'; Params = @{ Address = '127.0.0.1'; Port = 80; ConnectTimeout = -5 } }
        @{ Case = 'a negative retry'; Id = 'InvalidRetry'; Params = @{ Address = '127.0.0.1'; Port = 80; Retry = -1 } }
        @{ Case = 'mixed families'; Id = 'AddressFamilyMismatch'; Params = @{ Address = '127.0.0.1'; Port = 80; BindAddress = '::1' } }
    ) {
        $r = Get-ErrorOf { Invoke-TcpCheck @Params }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors[0].FullyQualifiedErrorId | Should -Be "$Id,HaPowerShell.Commands.Health.InvokeTcpCheckCommand"
        $r.Errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}

Describe 'Invoke-TcpCheck inside a network namespace' -Tag 'Root' -Skip:(-not ($LabSupported -and $HavePython)) {
    BeforeAll {
        Clear-LabLeftovers
        $script:Topo = New-LabTopology -Hosts 'rs1', 'lb'
        $rs = $script:Topo.Hosts.rs1.IPv4Address
        $script:Server = Start-LabProcess -Topology $script:Topo -HostName rs1 -Command python3 -ArgumentList '-m', 'http.server', '8080', '--bind', $rs
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        do {
            Start-Sleep -Milliseconds 100
            $ready = (Invoke-LabCommand -Topology $script:Topo -HostName rs1 -Command ss -ArgumentList '-ltn' -AllowFailure).StdOut -match ":8080\b"
        } until ($ready -or [DateTime]::UtcNow -gt $deadline)
    }
    AfterAll {
        if ($script:Server) { $null = Stop-LabProcess $script:Server }
        Remove-LabTopology -Topology $script:Topo
    }

    It 'checks a real server across the lab bridge, open and closed ports, with -BindAddress' {
        $out = Invoke-LabPwsh -Topology $Topo -HostName lb -ModulePath $env:HAPS_MODULE_PATH -ArgumentList $Topo.Hosts.rs1.IPv4Address, $Topo.Hosts.lb.IPv4Address -Script {
            param($rs, $lb)
            $svc = [HaPowerShell.Core.Ipvs.IpvsService]@{ Protocol = 'Tcp'; Address = [ipaddress]'192.0.2.100'; Port = 8080 }
            $real = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = [ipaddress]$rs; Port = 8080 }
            $real | Invoke-TcpCheck -ConnectTimeout 2
            $real | Invoke-TcpCheck -Port 8081 -ConnectTimeout 2
            Invoke-TcpCheck $rs 8080 -BindAddress $lb
            Invoke-HttpCheck $rs 8080 -Path / -ConnectTimeout 3
        }.ToString()
        $out.Errors | Should -BeNullOrEmpty
        $out.Output.Count | Should -Be 4
        $out.Output[0].Success | Should -BeTrue
        $out.Output[1].Success | Should -BeFalse
        $out.Output[1].SocketError | Should -Be 'ConnectionRefused'
        $out.Output[2].Success | Should -BeTrue
        $out.Output[3].Success | Should -BeTrue
        $out.Output[3].StatusCode | Should -Be 200
    }

    It 'times out against an address nobody answers' {
        $out = Invoke-LabPwsh -Topology $Topo -HostName lb -ModulePath $env:HAPS_MODULE_PATH -Script {
            Invoke-TcpCheck 192.0.2.99 80 -ConnectTimeout 1
        }.ToString()
        $out.Output[0].Success | Should -BeFalse
        $out.Output[0].SocketError | Should -BeIn 'TimedOut', 'HostUnreachable', 'NetworkUnreachable'
    }
}

Describe 'Invoke-HttpCheck against a local server' -Skip:(-not $HavePython) {
    BeforeAll {
        $script:HttpPort = Get-FreePort
        $script:TlsPort = Get-FreePort
        $server = Join-Path $TestDrive 'server.py'
        [IO.File]::WriteAllText($server, @'
import http.server, ssl, sys, threading, hashlib
port, tlsport, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
seen = {"sni": ""}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, body, chunked=False):
        self.send_response(code)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            for part in (body[:3], body[3:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        self.close_connection = True
    def do_GET(self):
        p = self.path
        if p == "/ok": self.send(200, b"hello health\n")
        elif p == "/chunked": self.send(200, b"hello health\n", chunked=True)
        elif p == "/moved": self.send(301, b"moved")
        elif p == "/missing": self.send(404, b"not here")
        elif p == "/error": self.send(503, b"down")
        elif p == "/host": self.send(200, (self.headers.get("Host") or "").encode())
        elif p == "/sni": self.send(200, seen["sni"].encode())
        else: self.send(404, b"")
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
plain = S(("127.0.0.1", port), H)
threading.Thread(target=plain.serve_forever, daemon=True).start()
if cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    def on_sni(sock, name, c): seen["sni"] = name or ""
    ctx.sni_callback = on_sni
    tls = S(("127.0.0.1", tlsport), H)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    threading.Thread(target=tls.serve_forever, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
'@)
        $script:Cert = ''; $script:Key = ''
        if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
            $script:Cert = Join-Path $TestDrive 'cert.pem'; $script:Key = Join-Path $TestDrive 'key.pem'
            & openssl req -x509 -newkey rsa:2048 -nodes -keyout $Key -out $Cert -days 2 -subj '/CN=rs.example.test' 2>$null
        } else {
            $rsa = [System.Security.Cryptography.RSA]::Create(2048)
            $req = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=rs.example.test', $rsa, 'SHA256', [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
            $c = $req.CreateSelfSigned([DateTimeOffset]::Now.AddDays(-1), [DateTimeOffset]::Now.AddDays(2))
            $script:Cert = Join-Path $TestDrive 'cert.pem'; $script:Key = Join-Path $TestDrive 'key.pem'
            [IO.File]::WriteAllText($Cert, $c.ExportCertificatePem()); [IO.File]::WriteAllText($Key, $rsa.ExportPkcs8PrivateKeyPem())
        }
        $psi = [System.Diagnostics.ProcessStartInfo]::new('python3')
        foreach ($a in $server, $HttpPort, $TlsPort, $Cert, $Key) { $psi.ArgumentList.Add([string]$a) }
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
        $script:Py = [System.Diagnostics.Process]::Start($psi)
        $script:Py.StandardOutput.ReadLine() | Should -Be 'ready'
    }
    AfterAll {
        if ($script:Py) { $script:Py.StandardInput.Close(); if (-not $script:Py.WaitForExit(3000)) { $script:Py.Kill() }; $script:Py.Dispose() }
    }

    It 'succeeds on 200 and reports the genhash digest' {
        $r = Invoke-HttpCheck 127.0.0.1 $HttpPort -Path /ok
        $r | Should -BeOfType HaPowerShell.Core.Health.HttpCheckResult
        $r.Success | Should -BeTrue
        $r.StatusCode | Should -Be 200
        $expected = ([Security.Cryptography.MD5]::HashData([Text.Encoding]::ASCII.GetBytes("hello health`n")) | ForEach-Object { $_.ToString('x2') }) -join ''
        $r.Digest | Should -Be $expected
        $r.ContentLength | Should -Be 13
        $r.Url | Should -Be "http://127.0.0.1:$HttpPort/ok"
    }

    It 'de-chunks before digesting' {
        (Invoke-HttpCheck 127.0.0.1 $HttpPort -Path /chunked).Digest | Should -Be (Invoke-HttpCheck 127.0.0.1 $HttpPort -Path /ok).Digest
    }

    It '<Path> with -StatusCode <Spec> is Success=<Success>' -ForEach @(
        @{ Path = '/ok'; Spec = $null; Success = $true }
        @{ Path = '/moved'; Spec = $null; Success = $false }
        @{ Path = '/moved'; Spec = '200-299,301'; Success = $true }
        @{ Path = '/missing'; Spec = '200-299,301'; Success = $false }
        @{ Path = '/missing'; Spec = '404'; Success = $true }
        @{ Path = '/error'; Spec = '500-599'; Success = $true }
        @{ Path = '/ok'; Spec = '300-399'; Success = $false }
    ) {
        $p = @{ Address = '127.0.0.1'; Port = $HttpPort; Path = $Path }
        if ($Spec) { $p.StatusCode = $Spec }
        $r = Invoke-HttpCheck @p
        $r.Success | Should -Be $Success
        if (-not $Success) { $r.Message | Should -Match 'status' }
    }

    It 'compares the digest' {
        $good = (Invoke-HttpCheck 127.0.0.1 $HttpPort -Path /ok).Digest
        (Invoke-HttpCheck 127.0.0.1 $HttpPort -Path /ok -Digest $good.ToUpperInvariant()).Success | Should -BeTrue
        $bad = Invoke-HttpCheck 127.0.0.1 $HttpPort -Path /ok -Digest ('0' * 32)
        $bad.Success | Should -BeFalse
        $bad.Message | Should -Match 'digest'
    }

    It 'sends the virtual host as Host' {
        (Invoke-HttpCheck 127.0.0.1 $HttpPort -Path /host -VirtualHost www.example.test).BodyPreview | Should -Be 'www.example.test'
        (Invoke-HttpCheck 127.0.0.1 $HttpPort -Path /host).BodyPreview | Should -Be "127.0.0.1:$HttpPort"
    }

    It 'speaks TLS and sends SNI from -ServerName or the virtual host' {
        $r = Invoke-HttpCheck 127.0.0.1 $TlsPort -UseTls -Path /sni -ServerName sni.example.test
        $r.Success | Should -BeTrue
        $r.BodyPreview | Should -Be 'sni.example.test'
        $r.ServerName | Should -Be 'sni.example.test'
        $r.CertificateSubject | Should -Match 'rs.example.test'
        $r.TlsProtocol | Should -Not -BeNullOrEmpty
        (Invoke-HttpCheck 127.0.0.1 $TlsPort -UseTls -Path /sni -VirtualHost vh.example.test).BodyPreview | Should -Be 'vh.example.test'
        (Invoke-HttpCheck 127.0.0.1 $TlsPort -UseTls -Path /sni).BodyPreview | Should -Be '' -Because 'an address is never sent as SNI'
    }

    It 'fails the TLS check with -VerifyCertificate on a self-signed certificate' {
        $r = Invoke-HttpCheck 127.0.0.1 $TlsPort -UseTls -Path /ok -ServerName rs.example.test -VerifyCertificate
        $r.Success | Should -BeFalse
        $r.Message | Should -Match 'TLS'
    }

    It 'fails, not errors, when nothing listens, and when plain HTTP meets TLS' {
        $r = Invoke-HttpCheck 127.0.0.1 (Get-FreePort) -ConnectTimeout 1
        $r.Success | Should -BeFalse
        $r.StatusCode | Should -Be 0
        (Invoke-HttpCheck 127.0.0.1 $TlsPort -Path /ok -ConnectTimeout 2).Success | Should -BeFalse
    }

    It 'checks piped real servers' {
        $svc = [HaPowerShell.Core.Ipvs.IpvsService]@{ Protocol = 'Tcp'; Address = [ipaddress]'192.0.2.30'; Port = 80 }
        $rs = [HaPowerShell.Core.Ipvs.IpvsRealServer]@{ Service = $svc; Address = [ipaddress]'127.0.0.1'; Port = 80 }
        $r = $rs | Invoke-HttpCheck -Port $HttpPort -Path /ok
        $r.Success | Should -BeTrue
        $r.RealServer | Should -Be $rs
    }

    It 'stops with <Id> on a bad <Case>' -ForEach @(
        @{ Case = 'status spec'; Id = 'InvalidStatusCode'; Params = @{ StatusCode = '2xx' } }
        @{ Case = 'digest'; Id = 'InvalidDigest'; Params = @{ Digest = 'abc' } }
        @{ Case = 'path'; Id = 'InvalidUrlPath'; Params = @{ Path = 'no-slash' } }
        @{ Case = 'SNI without TLS'; Id = 'ServerNameWithoutTls'; Params = @{ ServerName = 'x.example.test' } }
        @{ Case = 'timeout'; Id = 'InvalidTimeout'; Params = @{ ConnectTimeout = 0 } }
    ) {
        $r = Get-ErrorOf { Invoke-HttpCheck -Address 127.0.0.1 -Port $HttpPort @Params }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors[0].FullyQualifiedErrorId | Should -Be "$Id,HaPowerShell.Commands.Health.InvokeHttpCheckCommand"
        $r.Errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}
