; Inno Setup script: a double-click setup.exe for Windows (build it with build.ps1).
; Installs the one-folder app to Program Files, keeps data and settings in
; C:\ProgramData\OnlineSupport, registers the OnlineSupport service (automatic start, restarts
; after a failure), opens the two ports on the private network profile only, adds a Start-menu
; link to the desk and opens the first-run link in the browser.
#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z (build.ps1 does)
#endif
#ifndef AppFolder
  #error Pass /DAppFolder=path\to\onlinesupport-X.Y.Z-windows-amd64 (build.ps1 does)
#endif

[Setup]
AppId={{6F0B7C2E-1C55-4C1B-9B52-0D2E64F0A9B1}
AppName=OnlineSupport
AppVersion={#AppVersion}
AppPublisher=OnlineSupport
DefaultDirName={autopf}\OnlineSupport
DefaultGroupName=OnlineSupport
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=onlinesupport-{#AppVersion}-windows-setup
OutputDir=..\..\dist
Compression=lzma2
SolidCompression=yes
SetupIconFile=..\..\assets\onlinesupport.ico
UninstallDisplayIcon={app}\onlinesupport.exe
LicenseFile=..\..\LICENSE
CloseApplications=yes

[Files]
Source: "{#AppFolder}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Dirs]
Name: "{commonappdata}\OnlineSupport"; Permissions: admins-full system-full

[Icons]
Name: "{group}\OnlineSupport desk"; Filename: "http://localhost:8081/"
Name: "{group}\Uninstall OnlineSupport"; Filename: "{uninstallexe}"

[Run]
; An upgrade finds the service installed: stop it, swap the files (above), start it again.
Filename: "{app}\onlinesupport.exe"; Parameters: "service install"; Flags: runhidden; StatusMsg: "Registering the service..."; Check: not ServiceInstalled
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""OnlineSupport public"" dir=in action=allow protocol=TCP localport=8080 profile=private"; Flags: runhidden; Check: not ServiceInstalled
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""OnlineSupport desk"" dir=in action=allow protocol=TCP localport=8081 profile=private"; Flags: runhidden; Check: not ServiceInstalled
Filename: "{app}\onlinesupport.exe"; Parameters: "service start"; Flags: runhidden; StatusMsg: "Starting the service..."
Filename: "{app}\onlinesupport.exe"; Parameters: "setup-link --open --config ""{commonappdata}\OnlineSupport\onlinesupport.toml"""; Flags: runhidden postinstall skipifsilent; Description: "Open the desk to finish the setup"

[UninstallRun]
Filename: "{app}\onlinesupport.exe"; Parameters: "service stop"; Flags: runhidden; RunOnceId: "StopService"
Filename: "{app}\onlinesupport.exe"; Parameters: "service remove"; Flags: runhidden; RunOnceId: "RemoveService"
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""OnlineSupport public"""; Flags: runhidden; RunOnceId: "FirewallPublic"
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""OnlineSupport desk"""; Flags: runhidden; RunOnceId: "FirewallDesk"

[Code]
var
  WasInstalled: Boolean;

function ServiceInstalled(): Boolean;
var
  ResultCode: Integer;
begin
  Result := Exec(ExpandConstant('{sys}\sc.exe'), 'query OnlineSupport', '', SW_HIDE,
                 ewWaitUntilTerminated, ResultCode) and (ResultCode = 0);
end;

function PrepareToInstall(var NeedsRestart: Boolean): String;
var
  ResultCode: Integer;
begin
  WasInstalled := ServiceInstalled();
  if WasInstalled then
    { The running program holds its files; a newer one backs the database up before it
      changes the schema when the service starts again. }
    Exec(ExpandConstant('{sys}\sc.exe'), 'stop OnlineSupport', '', SW_HIDE,
         ewWaitUntilTerminated, ResultCode);
  Result := '';
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and not UninstallSilent then
    if MsgBox('Delete all OnlineSupport data (conversations, accounts, settings and backups) in '
              + ExpandConstant('{commonappdata}\OnlineSupport') + '?' + #13#10
              + 'Choose No to keep it for a later installation.',
              mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
      DelTree(ExpandConstant('{commonappdata}\OnlineSupport'), True, True, True);
end;
