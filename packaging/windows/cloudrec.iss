; Inno Setup 6 script: cloudrec-<version>-setup.exe from the PyInstaller folder.
;
; On Windows, from the project folder (see docs/packaging.md):
;   .venv\Scripts\pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\cloudrec.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\cloudrec.iss
; The version must be pyproject.toml's; the output is dist\cloudrec-<version>-setup.exe.
; Written without a Windows machine at hand: check it on the first Windows build.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\cloudrec.iss
#endif
#define AppName "cloudrec"
#define Bundle "..\..\dist\cloudrec"

[Setup]
; AppId identifies the product for upgrades and uninstall: never change it.
AppId={{8CE2E422-CB51-4861-A91A-51FA498C7AF0}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=cloudrec
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user installation without administrator rights is offered; all users is the default.
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\cloudrec.exe
#if FileExists(AddBackslash(SourcePath) + "..\..\resources\icons\cloudrec.ico")
SetupIconFile=..\..\resources\icons\cloudrec.ico
#endif
; A running cloudrec (or its embedded server, the same cloudrec.exe) holds its files.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder bundle: cloudrec.exe (window), cloudrec-cli.exe (console), _internal\.
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle; stale libraries from an older version must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\cloudrec.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\cloudrec.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\cloudrec.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
