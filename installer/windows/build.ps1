# Build the Windows installer: the one-folder app with PyInstaller, then setup.exe with Inno Setup.
# Run from the repository root in a Python 3.11+ environment with `pip install -e .[build]`
# and Inno Setup 6 (iscc.exe on PATH, e.g. `choco install innosetup`).
$ErrorActionPreference = "Stop"
$version = (python -c "import onlinesupport; print(onlinesupport.__version__)").Trim()
pyinstaller --noconfirm --clean onlinesupport.spec
$folder = Get-ChildItem -Directory "dist\onlinesupport-$version-windows-*" | Select-Object -First 1
if (-not $folder) { throw "PyInstaller did not produce dist\onlinesupport-$version-windows-*" }
iscc /DAppVersion=$version "/DAppFolder=$($folder.FullName)" installer\windows\onlinesupport.iss
if ($LASTEXITCODE -ne 0) { throw "iscc failed" }
Get-Item "dist\onlinesupport-$version-windows-setup.exe"
