; Inno Setup script: a double-click setup.exe for Windows (build it with build.ps1).
; Installs the one-folder app to Program Files and puts it on PATH; keeps data and settings in
; C:\ProgramData\OnlineSupport. `onlinesupport service install` then registers the OnlineSupport
; service (delayed automatic start, account NT SERVICE\OnlineSupport, restarts after a failure),
; leaves its folder to SYSTEM, Administrators and the service, and opens the desk port to this
; network and the public port to all, on every firewall profile. Setup starts the service and,
; once the desk answers, offers to open the first-run link in the browser.
; Setup's exit code is 10 when the files are installed but the service could not be set up.
#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z (build.ps1 does)
#endif
#ifndef AppFolder
  #error Pass /DAppFolder=path\to\onlinesupport-X.Y.Z-windows-amd64 (build.ps1 does)
#endif
#if Ver < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 or newer is needed (x64compatible)
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
; The program folder goes on the system PATH, so an admin can type `onlinesupport ...`.
ChangesEnvironment=yes
; Always write a log (in %TEMP%, "Setup Log ....txt"): the service commands' output is in it.
SetupLogging=yes
#ifdef Sign
; build.ps1 passes /DSign and /Sonlinesupport=... when a code-signing certificate is given.
SignTool=onlinesupport
SignedUninstaller=yes
#endif

[InstallDelete]
; Modules an older version had and this one does not must not be loaded by the new program.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#AppFolder}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Dirs]
; Its permissions are set by `onlinesupport service install` (Inno's Permissions only add to
; what ProgramData passes down, which lets every local user read and create files).
Name: "{commonappdata}\OnlineSupport"; Flags: uninsneveruninstall

[Registry]
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath('{app}')

[Icons]
Name: "{group}\OnlineSupport desk"; Filename: "http://localhost:8081/"
Name: "{group}\Uninstall OnlineSupport"; Filename: "{uninstallexe}"

[Run]
; The service is registered and started in CurStepChanged below, where exit codes are checked
; ([Run] entries' are not). This entry runs as the user who started Setup, not elevated: the
; link was read by the elevated step, from the folder only administrators can read.
Filename: "{code:SetupLink}"; Description: "Open the desk in the browser to finish the setup"; Flags: postinstall shellexec skipifsilent; Check: HasSetupLink

[UninstallRun]
; Stops the service and waits for its process to end, deletes the service and the firewall rules.
Filename: "{app}\onlinesupport.exe"; Parameters: "service remove"; Flags: runhidden; RunOnceId: "RemoveService"

[Code]
const
  EnvironmentKey = 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment';
  ServiceFailedExitCode = 10;

{ Stops the installed version's service and waits until its process has ended (it holds the
  program's files). In PowerShell rather than the installed program's `service stop`, which did
  not wait in older versions. }
function StopScript(): String;
begin
  Result :=
    '$ErrorActionPreference = ''Stop''; ' +
    '$s = Get-Service -Name OnlineSupport; ' +
    '$id = (Get-CimInstance -ClassName Win32_Service | Where-Object Name -EQ OnlineSupport).ProcessId; ' +
    'if ($s.Status -eq ''StartPending'') { $s.WaitForStatus(''Running'', [TimeSpan]::FromSeconds(60)); $s.Refresh() }; ' +
    'if ($s.Status -ne ''Stopped'' -and $s.Status -ne ''StopPending'') { $s.Stop() }; ' +
    '$s.WaitForStatus(''Stopped'', [TimeSpan]::FromSeconds(60)); ' +
    'if ($id) { Get-Process -Id $id -ErrorAction SilentlyContinue | Wait-Process -Timeout 30 }';
end;

var
  ServiceError: String;
  SetupLinkUrl: String;

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
  Result := '';
  if not ServiceInstalled() then
    Exit;
  Log('Stopping the installed OnlineSupport service');
  if not Exec(ExpandConstant('{sys}\WindowsPowerShell\v1.0\powershell.exe'),
              '-NoProfile -NonInteractive -Command "' + StopScript() + '"', '', SW_HIDE,
              ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
    Result := 'The OnlineSupport service did not stop within a minute and a half. ' +
              'Stop it in Services (services.msc), then run Setup again.';
end;

{ Runs the installed onlinesupport.exe with Params; its output (stdout and stderr) goes to a
  file in Setup's temporary folder, from there into Output and, when LogOutput, Setup's log.
  Returns the exit code, or -1 when the program could not be started. }
function RunProgram(const Params, Name: String; const LogOutput: Boolean;
                    var Output: TArrayOfString): Integer;
var
  OutFile: String;
  ResultCode, I: Integer;
begin
  OutFile := ExpandConstant('{tmp}\' + Name + '.txt');
  { cmd /C strips the outer quotes and keeps the inner ones. }
  if not Exec(ExpandConstant('{cmd}'), '/C ""' + ExpandConstant('{app}\onlinesupport.exe') +
              '" ' + Params + ' > "' + OutFile + '" 2>&1"', '', SW_HIDE,
              ewWaitUntilTerminated, ResultCode) then
    ResultCode := -1;
  SetArrayLength(Output, 0);
  LoadStringsFromFile(OutFile, Output);
  if LogOutput then
    for I := 0 to GetArrayLength(Output) - 1 do
      Log(Name + ': ' + Output[I]);
  Log(Format('%s: exit code %d', [Name, ResultCode]));
  Result := ResultCode;
end;

function JoinLines(const Lines: TArrayOfString): String;
var
  I: Integer;
begin
  Result := '';
  for I := 0 to GetArrayLength(Lines) - 1 do
    Result := Result + Lines[I] + #13#10;
end;

procedure ServiceFailed(const What: String; const Output: TArrayOfString);
begin
  ServiceError := What;
  SuppressibleMsgBox('OnlineSupport was installed, but ' + What + ':' + #13#10#13#10 +
                     JoinLines(Output) + #13#10 +
                     'Fix the cause, then run Setup again. Setup''s log (in %TEMP%) and ' +
                     ExpandConstant('{commonappdata}\OnlineSupport\data\logs\onlinesupport.log') +
                     ' say more.', mbError, MB_OK, IDOK);
end;

procedure CurStepChanged(CurStep: TSetupStep);
var
  Output: TArrayOfString;
begin
  if CurStep <> ssPostInstall then
    Exit;
  WizardForm.StatusLabel.Caption := 'Setting up the OnlineSupport service...';
  if RunProgram('service install', 'service-install', True, Output) <> 0 then
    ServiceFailed('its service could not be set up', Output)
  else if RunProgram('service start', 'service-start', True, Output) <> 0 then
    ServiceFailed('its service could not be started', Output)
  else if not WizardSilent() then
  begin
    { Elevated: only administrators can read the setup token. Not logged: the link creates the
      first admin account. }
    WizardForm.StatusLabel.Caption := 'Waiting for the desk to answer...';
    if (RunProgram('setup-link --wait 60 --url-only --config "' +
                   ExpandConstant('{commonappdata}\OnlineSupport\onlinesupport.toml') + '"',
                   'setup-link', False, Output) = 0) and (GetArrayLength(Output) > 0) then
      SetupLinkUrl := Trim(Output[0]);
    DeleteFile(ExpandConstant('{tmp}\setup-link.txt'));
  end;
end;

procedure CurPageChanged(CurPageID: Integer);
begin
  if (CurPageID = wpFinished) and (ServiceError <> '') then
    WizardForm.FinishedLabel.Caption := 'OnlineSupport was installed, but ' + ServiceError +
      '. Fix the cause and run Setup again.';
end;

function GetCustomSetupExitCode(): Integer;
begin
  if ServiceError <> '' then
    Result := ServiceFailedExitCode
  else
    Result := 0;
end;

function HasSetupLink(): Boolean;
begin
  Result := SetupLinkUrl <> '';
end;

function SetupLink(Param: String): String;
begin
  Result := SetupLinkUrl;
end;

function NeedsAddPath(Param: String): Boolean;
var
  Path: String;
begin
  if not RegQueryStringValue(HKEY_LOCAL_MACHINE, EnvironmentKey, 'Path', Path) then
    Result := True
  else
    Result := Pos(';' + Uppercase(ExpandConstant(Param)) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

procedure RemoveFromPath(const Dir: String);
var
  Path: String;
  P: Integer;
begin
  if not RegQueryStringValue(HKEY_LOCAL_MACHINE, EnvironmentKey, 'Path', Path) then
    Exit;
  { P is where ';Dir;' starts in ';Path;', so Dir starts at P in Path. }
  P := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';');
  if P = 0 then
    Exit;
  if P > 1 then
    Delete(Path, P - 1, Length(Dir) + 1)
  else
    Delete(Path, 1, Length(Dir) + 1);
  RegWriteExpandStringValue(HKEY_LOCAL_MACHINE, EnvironmentKey, 'Path', Path);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep <> usPostUninstall then
    Exit;
  RemoveFromPath(ExpandConstant('{app}'));
  if not UninstallSilent then
    if MsgBox('Delete all OnlineSupport data (conversations, accounts, settings and backups) in '
              + ExpandConstant('{commonappdata}\OnlineSupport') + '?' + #13#10
              + 'Choose No to keep it for a later installation.',
              mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
      DelTree(ExpandConstant('{commonappdata}\OnlineSupport'), True, True, True);
end;
