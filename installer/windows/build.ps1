# Build the Windows installer: the one-folder app with PyInstaller, then setup.exe with Inno Setup.
# Run from the repository root in a Python 3.11+ environment with `pip install -e .[build]`
# and Inno Setup 6.3 or newer (iscc.exe on PATH; GitHub's windows-2022 image has it in
# "C:\Program Files (x86)\Inno Setup 6").
#
# Code signing (SmartScreen and Defender warn about unsigned programs): import the certificate
# into the current user's certificate store and set ONLINESUPPORT_SIGN_THUMBPRINT to its SHA-1
# thumbprint; ONLINESUPPORT_SIGN_TIMESTAMP may name another RFC 3161 timestamp server. signtool
# comes from the Windows SDK. onlinesupport.exe, setup.exe and the uninstaller are then signed.
$ErrorActionPreference = "Stop"
$version = (python -c "import onlinesupport; print(onlinesupport.__version__)").Trim()
pyinstaller --noconfirm --clean onlinesupport.spec
if ($LASTEXITCODE -ne 0) { throw "pyinstaller failed" }
$folder = Get-ChildItem -Directory "dist\onlinesupport-$version-windows-*" | Select-Object -First 1
if (-not $folder) { throw "PyInstaller did not produce dist\onlinesupport-$version-windows-*" }

$signing = @()
$thumbprint = $env:ONLINESUPPORT_SIGN_THUMBPRINT
if ($thumbprint) {
    $signtool = (Get-Command signtool.exe -ErrorAction SilentlyContinue).Source
    if (-not $signtool) {
        $signtool = (Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" |
            Sort-Object FullName | Select-Object -Last 1).FullName
    }
    if (-not $signtool) { throw "signtool.exe not found: install the Windows SDK" }
    # On PATH, so the command Inno Setup runs needs no quotes.
    $env:PATH = "$(Split-Path $signtool);$env:PATH"
    $timestamp = if ($env:ONLINESUPPORT_SIGN_TIMESTAMP) { $env:ONLINESUPPORT_SIGN_TIMESTAMP } else { "http://timestamp.digicert.com" }
    $sign = "signtool.exe sign /sha1 $thumbprint /fd sha256 /tr $timestamp /td sha256"
    & signtool.exe sign /sha1 $thumbprint /fd sha256 /tr $timestamp /td sha256 "$($folder.FullName)\onlinesupport.exe"
    if ($LASTEXITCODE -ne 0) { throw "signing onlinesupport.exe failed" }
    # Inno Setup replaces $f with the quoted name of each file it signs.
    $signing = @("/DSign", "/Sonlinesupport=$sign `$f")
} else {
    Write-Warning "Not signed (ONLINESUPPORT_SIGN_THUMBPRINT is not set): Windows will warn about an unknown publisher."
}

iscc /DAppVersion=$version "/DAppFolder=$($folder.FullName)" @signing installer\windows\onlinesupport.iss
if ($LASTEXITCODE -ne 0) { throw "iscc failed" }
Get-Item "dist\onlinesupport-$version-windows-setup.exe"
