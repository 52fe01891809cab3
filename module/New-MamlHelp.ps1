# Builds the module's MAML help (en-US/HaPowerShell.dll-Help.xml) from docs/cmdlets/*.md.
# The markdown (platyPS layout) is the one source of cmdlet help text; syntax, parameter types,
# positions and pipeline binding are read from the compiled cmdlets so they cannot drift.
# Dot-sourced by build.ps1; not shipped with the module.

function ConvertFrom-CmdletMarkdown {
    param([Parameter(Mandatory)][string]$Path)
    $lines = Get-Content -LiteralPath $Path
    $doc = @{ Synopsis = ''; Description = ''; Examples = [System.Collections.Generic.List[object]]::new();
              Parameters = @{}; Inputs = [System.Collections.Generic.List[object]]::new();
              Outputs = [System.Collections.Generic.List[object]]::new(); Notes = ''; Links = [System.Collections.Generic.List[object]]::new() }
    $section = ''; $sub = $null; $buffer = [System.Text.StringBuilder]::new()
    $inFence = $false; $fenceLang = ''; $example = $null

    $flush = {
        $text = $buffer.ToString().Trim()
        [void]$buffer.Clear()
        if (-not $text) { return }
        switch ($section) {
            'SYNOPSIS'    { $doc.Synopsis = $text }
            'DESCRIPTION' { $doc.Description = $text }
            'NOTES'       { $doc.Notes = $text }
            'EXAMPLES'    { if ($example) { $example.Remarks += ($(if ($example.Remarks) { "`n`n" } else { '' }) + $text) } }
            'PARAMETERS'  { if ($sub) { $doc.Parameters[$sub] = (($doc.Parameters[$sub], $text) -ne $null -join "`n`n").Trim() } }
            'INPUTS'      { if ($doc.Inputs.Count) { $doc.Inputs[-1].Description = $text } }
            'OUTPUTS'     { if ($doc.Outputs.Count) { $doc.Outputs[-1].Description = $text } }
        }
    }

    foreach ($line in $lines) {
        if ($line -match '^```(\w*)') {
            if (-not $inFence) {
                & $flush
                $inFence = $true; $fenceLang = $Matches[1]; $fence = [System.Text.StringBuilder]::new()
            } else {
                $inFence = $false
                $code = $fence.ToString().TrimEnd()
                if ($section -eq 'EXAMPLES' -and $example) {
                    if ($fenceLang -eq 'output') { $example.Output = $code } elseif (-not $example.Code) { $example.Code = $code }
                }
            }
            continue
        }
        if ($inFence) { [void]$fence.AppendLine($line); continue }
        if ($line -match '^## (.+)$') { & $flush; $section = $Matches[1].Trim().ToUpperInvariant(); $sub = $null; continue }
        if ($line -match '^### (.+)$') {
            & $flush
            $title = $Matches[1].Trim()
            switch ($section) {
                'EXAMPLES'   { $example = [pscustomobject]@{ Title = $title; Code = ''; Output = ''; Remarks = '' }; $doc.Examples.Add($example) }
                'PARAMETERS' { $sub = $title.TrimStart('-') }
                'INPUTS'     { $doc.Inputs.Add([pscustomobject]@{ Type = $title; Description = '' }) }
                'OUTPUTS'    { $doc.Outputs.Add([pscustomobject]@{ Type = $title; Description = '' }) }
            }
            continue
        }
        if ($section -eq 'RELATED LINKS' -and $line -match '^\[(.+?)\]\((.*?)\)') {
            $doc.Links.Add([pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] }); continue
        }
        if ($line -match '^---$' -or $line -match '^(external help file|Module Name|online version|schema):') { continue }
        if ($line -match '^# ') { continue }
        [void]$buffer.AppendLine($line)
    }
    & $flush
    $doc
}

function New-MamlHelp {
    param(
        [Parameter(Mandatory)][string]$ModuleName,
        [Parameter(Mandatory)][string]$DocsPath,
        [Parameter(Mandatory)][string]$OutFile,
        # Where the cmdlet pages are published: related links that name another cmdlet's page (or
        # none) become absolute links under it, and each command's first link ("Online Version:",
        # what Get-Help -Online opens) is its own page there.
        [Parameter(Mandatory)][string]$OnlineBaseUri
    )
    $maml = 'http://schemas.microsoft.com/maml/2004/10'
    $cmdNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    $devNs = 'http://schemas.microsoft.com/maml/dev/2004/10'
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
    $w = [System.Xml.XmlWriter]::Create($OutFile, $settings)
    # Get-Help appends [<CommonParameters>] itself; WhatIf and Confirm (the optional common
    # parameters) are shown in the syntax and described like any other parameter, as in
    # PowerShell's own help.
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters
    $optionalText = @{
        WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
        Confirm = 'Prompts you for confirmation before running the cmdlet.'
    }
    $base = $OnlineBaseUri.TrimEnd('/')
    function LinkUri([string]$text, [string]$uri) {
        if ($uri -match '^[a-z][a-z0-9+.-]*://') { return $uri }
        if ($uri -match '^([A-Za-z]+-[A-Za-z]+|about_\w+)\.md$') { return "$base/$($Matches[1]).md" }
        if (-not $uri -and $text -match '^([A-Za-z]+-[A-Za-z]+|about_\w+)$') { return "$base/$text.md" }
        throw "Related link '$text' ($uri) is neither an absolute URI nor a cmdlet or about_ page."
    }

    function Paras([string]$text) {
        foreach ($p in ($text -split "(\r?\n){2,}" | Where-Object { $_.Trim() })) {
            $w.WriteElementString('maml', 'para', $maml, (($p -split "\r?\n") -join ' ').Trim())
        }
    }
    function Param($p, $set, [string]$desc) {
        $w.WriteStartElement('command', 'parameter', $cmdNs)
        $w.WriteAttributeString('required', "$($set.IsMandatory)".ToLowerInvariant())
        $w.WriteAttributeString('variableLength', "$($p.ParameterType.IsArray)".ToLowerInvariant())
        $w.WriteAttributeString('globbing', 'false')
        $pipe = @(); if ($set.ValueFromPipeline) { $pipe += 'ByValue' }; if ($set.ValueFromPipelineByPropertyName) { $pipe += 'ByPropertyName' }
        $w.WriteAttributeString('pipelineInput', $(if ($pipe) { "True ($($pipe -join ', '))" } else { 'False' }))
        $w.WriteAttributeString('position', $(if ($set.Position -ge 0) { "$($set.Position)" } else { 'named' }))
        $w.WriteAttributeString('aliases', $(if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'none' }))
        $w.WriteElementString('maml', 'name', $maml, $p.Name)
        $w.WriteStartElement('maml', 'description', $maml); Paras $desc; $w.WriteEndElement()
        # Nullable<T> parameters (optional values) are shown as T, as users type them.
        $type = [Nullable]::GetUnderlyingType($p.ParameterType) ?? $p.ParameterType
        if ($type -ne [System.Management.Automation.SwitchParameter]) {
            $w.WriteStartElement('command', 'parameterValue', $cmdNs)
            $w.WriteAttributeString('required', 'true'); $w.WriteAttributeString('variableLength', 'false')
            $w.WriteString($type.Name); $w.WriteEndElement()
        }
        $w.WriteStartElement('dev', 'type', $devNs); $w.WriteElementString('maml', 'name', $maml, $type.FullName); $w.WriteEndElement()
        $w.WriteEndElement()
    }

    $w.WriteStartDocument()
    $w.WriteStartElement('helpItems', 'http://msh')
    $w.WriteAttributeString('schema', 'maml')
    foreach ($cmd in (Get-Command -Module $ModuleName -CommandType Cmdlet | Sort-Object Name)) {
        $md = Join-Path $DocsPath "$($cmd.Name).md"
        if (-not (Test-Path $md)) { throw "No help source for $($cmd.Name): create $md (see docs/cmdlets/Get-IpvsInfo.md for the layout)." }
        $doc = ConvertFrom-CmdletMarkdown -Path $md
        $w.WriteStartElement('command', 'command', $cmdNs)
        $w.WriteAttributeString('xmlns', 'maml', $null, $maml)
        $w.WriteAttributeString('xmlns', 'dev', $null, $devNs)
        $w.WriteStartElement('command', 'details', $cmdNs)
        $w.WriteElementString('command', 'name', $cmdNs, $cmd.Name)
        $w.WriteElementString('command', 'verb', $cmdNs, $cmd.Verb)
        $w.WriteElementString('command', 'noun', $cmdNs, $cmd.Noun)
        $w.WriteStartElement('maml', 'description', $maml); Paras $doc.Synopsis; $w.WriteEndElement()
        $w.WriteEndElement()
        $w.WriteStartElement('maml', 'description', $maml); Paras $doc.Description; $w.WriteEndElement()

        $w.WriteStartElement('command', 'syntax', $cmdNs)
        foreach ($set in $cmd.ParameterSets) {
            $w.WriteStartElement('command', 'syntaxItem', $cmdNs)
            $w.WriteElementString('maml', 'name', $maml, $cmd.Name)
            foreach ($sp in $set.Parameters | Where-Object { $_.Name -notin $common }) {
                Param $cmd.Parameters[$sp.Name] $sp ($doc.Parameters[$sp.Name] ?? $optionalText[$sp.Name])
            }
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $w.WriteStartElement('command', 'parameters', $cmdNs)
        foreach ($p in $cmd.Parameters.Values | Where-Object { $_.Name -notin $common }) {
            $first = $cmd.ParameterSets.Parameters | Where-Object Name -eq $p.Name | Select-Object -First 1
            Param $p $first ($doc.Parameters[$p.Name] ?? $optionalText[$p.Name])
        }
        $w.WriteEndElement()

        foreach ($kind in @(@('inputTypes', 'inputType', $doc.Inputs), @('returnValues', 'returnValue', $doc.Outputs))) {
            $w.WriteStartElement('command', $kind[0], $cmdNs)
            foreach ($t in $kind[2]) {
                $w.WriteStartElement('command', $kind[1], $cmdNs)
                $w.WriteStartElement('dev', 'type', $devNs); $w.WriteElementString('maml', 'name', $maml, $t.Type); $w.WriteEndElement()
                $w.WriteStartElement('maml', 'description', $maml); Paras $t.Description; $w.WriteEndElement()
                $w.WriteEndElement()
            }
            $w.WriteEndElement()
        }
        if ($doc.Notes) {
            $w.WriteStartElement('maml', 'alertSet', $maml); $w.WriteStartElement('maml', 'alert', $maml); Paras $doc.Notes; $w.WriteEndElement(); $w.WriteEndElement()
        }
        $w.WriteStartElement('command', 'examples', $cmdNs)
        foreach ($e in $doc.Examples) {
            $w.WriteStartElement('command', 'example', $cmdNs)
            $w.WriteElementString('maml', 'title', $maml, "-------------------------- $($e.Title) --------------------------")
            $code = $e.Code; if ($e.Output) { $code += "`n`n$($e.Output)" }
            $w.WriteElementString('dev', 'code', $devNs, $code)
            $w.WriteStartElement('dev', 'remarks', $devNs); Paras $e.Remarks; $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
        $w.WriteStartElement('command', 'relatedLinks', $cmdNs)
        $links = @([pscustomobject]@{ Text = 'Online Version:'; Uri = "$base/$($cmd.Name).md" }) +
            @($doc.Links | ForEach-Object { [pscustomobject]@{ Text = $_.Text; Uri = (LinkUri $_.Text $_.Uri) } })
        foreach ($l in $links) {
            $w.WriteStartElement('maml', 'navigationLink', $maml)
            $w.WriteElementString('maml', 'linkText', $maml, $l.Text); $w.WriteElementString('maml', 'uri', $maml, $l.Uri)
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndDocument()
    $w.Dispose()
}
