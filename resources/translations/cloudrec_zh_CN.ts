<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CloseDialog</name>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="33"/>
        <source>Recordings are running</source>
        <translation>录制仍在进行</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="36"/>
        <source>A recording is still running.</source>
        <translation>有 1 个录制仍在进行。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="38"/>
        <source>{0} recordings are still running.</source>
        <translation>有 {0} 个录制仍在进行。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="42"/>
        <source>Closing the window stops the recordings. Keeping them recording in the background needs an OS keyring, where the next window finds the recording server&apos;s key, and this computer has none.</source>
        <translation>关闭窗口会停止这些录制。要让它们在后台继续录制，需要系统密钥环（下一个窗口从中取得录制服务器的密钥），而本机没有。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="48"/>
        <source>Stop it now, or keep it recording and uploading in the background (the window reattaches to it next time)?</source>
        <translation>现在停止它，还是让它在后台继续录制和上传（下次打开窗口时会重新连接）？</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="53"/>
        <source>Stop them now, or keep them recording and uploading in the background (the window reattaches to them next time)?</source>
        <translation>现在停止它们，还是让它们在后台继续录制和上传（下次启动窗口时会重新连接）？</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="58"/>
        <source>The demo participants stop when the window closes, either way.</source>
        <translation>无论如何，演示参与者都会随窗口关闭而停止。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="62"/>
        <source>Stop recordings</source>
        <translation>停止录制</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/close_dialog.py" line="70"/>
        <source>Keep recording in background</source>
        <translation>在后台继续录制</translation>
    </message>
</context>
<context>
    <name>ConfigForm</name>
    <message>
        <location filename="../../gui/forms/config_form.py" line="85"/>
        <source>Required: {0}</source>
        <translation>必填：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/forms/config_form.py" line="87"/>
        <source>Not allowed: {0}</source>
        <translation>不允许：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/forms/config_form.py" line="88"/>
        <source>{0} is not allowed: {1}</source>
        <translation>不允许 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/forms/config_form.py" line="96"/>
        <source>Allowed: {0}</source>
        <translation>允许的值：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/forms/config_form.py" line="101"/>
        <source>(cloudrec extension)</source>
        <translation>（cloudrec 扩展）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/config_form.py" line="278"/>
        <source>everyone (or: 1, 2, #allstream#)</source>
        <translation>所有人（或：1, 2, #allstream#）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/config_form.py" line="286"/>
        <source>{0} is not allowed; {1} to {2}. Kept {3}.</source>
        <translation>不允许 {0}；范围为 {1} 到 {2}。已保留 {3}。</translation>
    </message>
</context>
<context>
    <name>DemoDialog</name>
    <message>
        <location filename="../../gui/dialogs/demo_dialog.py" line="21"/>
        <source>Start demo participants</source>
        <translation>启动演示参与者</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/demo_dialog.py" line="27"/>
        <source>Channel</source>
        <translation>频道</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/demo_dialog.py" line="28"/>
        <source>Participants</source>
        <translation>参与者人数</translation>
    </message>
</context>
<context>
    <name>DemoOfferDialog</name>
    <message>
        <location filename="../../gui/dialogs/demo_offer.py" line="29"/>
        <source>The channel is empty</source>
        <translation>频道为空</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/demo_offer.py" line="32"/>
        <source>Channel {0} is empty: nothing would be recorded. Start {1} demo participants in it?</source>
        <translation>频道 {0} 中没有人：录制不到任何内容。要在其中启动 {1} 个演示参与者吗？</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/demo_offer.py" line="38"/>
        <source>Demo participants run on this computer, each sending a coloured, numbered tile and a tone; Recordings &gt; Stop demo participants ends them.</source>
        <translation>演示参与者在本机运行，每个发送一个带编号的彩色画面和一个音调；用“录制 &gt; 停止演示参与者”结束它们。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/demo_offer.py" line="44"/>
        <source>Don&apos;t ask again</source>
        <translation>不再询问</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/demo_offer.py" line="48"/>
        <source>Start participants and record</source>
        <translation>启动参与者并录制</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/demo_offer.py" line="51"/>
        <source>Record anyway</source>
        <translation>仍然录制</translation>
    </message>
</context>
<context>
    <name>ErrorDialog</name>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="56"/>
        <source>Recording error</source>
        <translation>录制错误</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="64"/>
        <source>Channel {0}: {1}</source>
        <translation>频道 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="71"/>
        <source>What to do: {0}</source>
        <translation>处理方法：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="79"/>
        <source>Check storage…</source>
        <translation>检查存储…</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="81"/>
        <source>Cancel and start again</source>
        <translation>取消并重新开始</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="83"/>
        <source>Release</source>
        <translation>释放</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="93"/>
        <source>check the storage settings on the Storage tab (vendor, region, bucket, access key and secret key) and test them; then start the recording again</source>
        <translation>在“存储”页检查存储设置（厂商、区域、存储桶、访问密钥和私有密钥）并测试，然后重新开始录制</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="98"/>
        <source>cancel this recording and start it again (Cancel and start again)</source>
        <translation>取消此录制并重新开始（取消并重新开始）</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/error_dialog.py" line="100"/>
        <source>release the recording (Release) to free it in this window</source>
        <translation>释放录制（释放），在本窗口中结束它</translation>
    </message>
</context>
<context>
    <name>EventLog</name>
    <message>
        <location filename="../../gui/widgets/event_log.py" line="33"/>
        <source>Clear log</source>
        <translation>清空日志</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/event_log.py" line="35"/>
        <source>Save log as…</source>
        <translation>日志另存为…</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/event_log.py" line="70"/>
        <source>Save the event log</source>
        <translation>保存事件日志</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/event_log.py" line="72"/>
        <source>Text files (*.txt)</source>
        <translation>文本文件 (*.txt)</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/event_log.py" line="63"/>
        <source>Could not save the event log to {0}: {1}</source>
        <translation>无法将事件日志保存到 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/event_log.py" line="65"/>
        <source>Event log saved to {0}</source>
        <translation>事件日志已保存到 {0}</translation>
    </message>
</context>
<context>
    <name>FirstRun</name>
    <message>
        <location filename="../../gui/first_run.py" line="81"/>
        <source>No recordings yet. Press Start recording: on the built-in server, an empty channel offers demo participants to record.</source>
        <translation>还没有录制。请按“开始录制”：在内置服务器上，空频道会提示启动演示参与者以供录制。</translation>
    </message>
    <message>
        <location filename="../../gui/first_run.py" line="136"/>
        <source>Waiting for the demo participants to join channel {0}…</source>
        <translation>正在等待演示参与者加入频道 {0}…</translation>
    </message>
    <message>
        <location filename="../../gui/first_run.py" line="160"/>
        <source>The demo participants are not all in channel {0} after {1} s; recording anyway.</source>
        <translation>{1} 秒后演示参与者仍未全部进入频道 {0}；仍然开始录制。</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <location filename="../../gui/forms/labels.py" line="16"/>
        <source>App ID</source>
        <translation>App ID</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="17"/>
        <source>Channel</source>
        <translation>频道</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="18"/>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="19"/>
        <source>Recorder uid</source>
        <translation>录制端 uid</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="20"/>
        <source>Mode</source>
        <translation>录制模式</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="21"/>
        <source>Streams</source>
        <translation>录制内容</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="22"/>
        <source>Decryption</source>
        <translation>解密方式</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="23"/>
        <source>Decryption secret</source>
        <translation>解密密码</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="24"/>
        <source>Channel type</source>
        <translation>频道模式</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="25"/>
        <source>Audio profile</source>
        <translation>音频配置</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="26"/>
        <source>Video stream</source>
        <translation>视频流</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="27"/>
        <source>Max idle time</source>
        <translation>最长空闲时间</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="28"/>
        <source>Progress interval</source>
        <translation>进度回调间隔</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="29"/>
        <source>Slice duration</source>
        <translation>切片时长</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="30"/>
        <source>Record voices of</source>
        <translation>录制这些用户的声音</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="31"/>
        <source>Leave out voices of</source>
        <translation>不录这些用户的声音</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="32"/>
        <source>Show pictures of</source>
        <translation>显示这些用户的画面</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="33"/>
        <source>Leave out pictures of</source>
        <translation>不显示这些用户的画面</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="34"/>
        <source>Width</source>
        <translation>宽度</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="35"/>
        <source>Height</source>
        <translation>高度</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="36"/>
        <source>Frame rate</source>
        <translation>帧率</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="37"/>
        <source>Bitrate</source>
        <translation>码率</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="38"/>
        <source>Max-resolution uid</source>
        <translation>大流用户 uid</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="39"/>
        <source>Layout</source>
        <translation>布局</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="40"/>
        <source>Background</source>
        <translation>背景色</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="41"/>
        <source>Pictures</source>
        <translation>画面</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="42"/>
        <source>Large window follows the speaker</source>
        <translation>大窗口跟随发言人</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="43"/>
        <source>Background image</source>
        <translation>背景图</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="44"/>
        <source>Image without video</source>
        <translation>无视频时的图片</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="45"/>
        <source>Vendor</source>
        <translation>存储厂商</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="46"/>
        <source>Region</source>
        <translation>地区</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="47"/>
        <source>Bucket</source>
        <translation>存储桶 (Bucket)</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="48"/>
        <source>Access key</source>
        <translation>访问密钥 (Access Key)</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="49"/>
        <source>Secret key</source>
        <translation>私有密钥 (Secret Key)</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="50"/>
        <source>File name prefix</source>
        <translation>文件名前缀</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="51"/>
        <source>Endpoint</source>
        <translation>服务地址</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="52"/>
        <location filename="../../gui/forms/labels.py" line="100"/>
        <source>Local folder</source>
        <translation>本地文件夹</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="56"/>
        <location filename="../../gui/forms/labels.py" line="57"/>
        <location filename="../../gui/forms/labels.py" line="58"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="59"/>
        <location filename="../../gui/forms/labels.py" line="60"/>
        <source> px</source>
        <translation> 像素</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="61"/>
        <source> fps</source>
        <translation> fps</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="62"/>
        <source> kbps</source>
        <translation> Kbps</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="66"/>
        <source>Mix: everyone in one recording</source>
        <translation>合流：所有用户合成一个录制文件</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="67"/>
        <source>Individual: each user&apos;s audio and video in files of their own</source>
        <translation>单流：每个用户的音频和视频分别录制为单独的文件</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="70"/>
        <source>Audio and video</source>
        <translation>音频和视频</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="71"/>
        <source>Audio only</source>
        <translation>仅音频</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="72"/>
        <source>Video only</source>
        <translation>仅视频</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="73"/>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="74"/>
        <source>AES-128-XTS</source>
        <translation>AES-128-XTS</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="75"/>
        <source>AES-128-ECB</source>
        <translation>AES-128-ECB</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="76"/>
        <source>AES-256-XTS</source>
        <translation>AES-256-XTS</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="77"/>
        <source>Communication</source>
        <translation>通信模式</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="78"/>
        <source>Live broadcast</source>
        <translation>直播模式</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="79"/>
        <source>Standard (48 kHz mono, ~48 kbps)</source>
        <translation>标准（48 kHz 单声道，约 48 Kbps）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="82"/>
        <source>High quality (48 kHz mono, ~128 kbps)</source>
        <translation>高音质（48 kHz 单声道，约 128 Kbps）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="85"/>
        <source>High quality stereo (48 kHz, ~192 kbps)</source>
        <translation>高音质立体声（48 kHz 双声道，约 192 Kbps）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="88"/>
        <source>High (big stream)</source>
        <translation>大流</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="89"/>
        <source>Low (small stream)</source>
        <translation>小流</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="90"/>
        <source>Automatic per tile</source>
        <translation>按视窗自动选择</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="91"/>
        <source>Floating</source>
        <translation>悬浮布局</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="92"/>
        <source>Best fit</source>
        <translation>自适应布局</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="93"/>
        <source>Vertical</source>
        <translation>垂直布局</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="94"/>
        <source>Custom regions</source>
        <translation>自定义区域</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="95"/>
        <source>Crop to fill</source>
        <translation>裁剪铺满</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="96"/>
        <source>Fit with bars</source>
        <translation>完整显示（加边）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="97"/>
        <source>Qiniu Kodo</source>
        <translation>七牛云</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="98"/>
        <source>Amazon S3</source>
        <translation>Amazon S3</translation>
    </message>
    <message>
        <location filename="../../gui/forms/labels.py" line="99"/>
        <source>Aliyun OSS</source>
        <translation>阿里云 OSS</translation>
    </message>
</context>
<context>
    <name>LayoutEditor</name>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="222"/>
        <source>&lt;b&gt;Regions&lt;/b&gt; (drag to move, the corner to resize)</source>
        <translation>&lt;b&gt;区域&lt;/b&gt;（拖动以移动，拖动角以调整大小）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="229"/>
        <location filename="../../gui/widgets/layout_editor.py" line="374"/>
        <source>Add region</source>
        <translation>添加区域</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="231"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="233"/>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="235"/>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="237"/>
        <source>Snap to grid</source>
        <translation>对齐网格</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="240"/>
        <source>Positions and sizes in steps of 5 % of the canvas</source>
        <translation>位置和大小以画布的 5% 为步长</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="255"/>
        <source>next user to join</source>
        <translation>下一个加入的用户</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="257"/>
        <source>The user shown here; empty: the next user no region names, in join order</source>
        <translation>此处显示的用户；留空：按加入顺序，下一个未被任何区域指定的用户</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="266"/>
        <source>Crop to fill</source>
        <translation>裁剪铺满</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="267"/>
        <source>Fit with bars</source>
        <translation>完整显示（加边）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="268"/>
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="270"/>
        <source>Alpha</source>
        <translation>透明度</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="272"/>
        <source>Picture</source>
        <translation>画面</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="281"/>
        <source>A name to save these regions under, or a saved layout to load</source>
        <translation>保存这些区域的名称，或要加载的已保存布局</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="283"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="285"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="287"/>
        <source>Layout</source>
        <translation>布局</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="294"/>
        <source>Apply to the selected recording</source>
        <translation>应用到所选录制</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="298"/>
        <source>Give the recording selected in the list these regions now (Agora&apos;s updateLayout)</source>
        <translation>立即将这些区域应用到列表中所选的录制（Agora 的 updateLayout）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="301"/>
        <source>Apply as I edit</source>
        <translation>编辑时即应用</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="314"/>
        <source>Move region</source>
        <translation>移动区域</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="351"/>
        <source>Set regions</source>
        <translation>设置区域</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="381"/>
        <source>Remove region</source>
        <translation>删除区域</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="418"/>
        <source>Region settings</source>
        <translation>区域设置</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="450"/>
        <source>Give the layout a name to save it under.</source>
        <translation>请为布局命名后再保存。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/layout_editor.py" line="468"/>
        <source>Load {0}</source>
        <translation>加载 {0}</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../gui/widgets/keyring_banner.py" line="19"/>
        <source>No usable OS keyring was found: storage secrets are kept for this session only and must be entered again next time.</source>
        <translation>未找到可用的系统密钥环：存储密钥仅在本次会话中保留，下次需要重新输入。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/preview_panel.py" line="52"/>
        <location filename="../../gui/widgets/preview_panel.py" line="158"/>
        <source>&lt;b&gt;Layout preview&lt;/b&gt;</source>
        <translation>&lt;b&gt;布局预览&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/preview_panel.py" line="55"/>
        <source>Sample users</source>
        <translation>示例用户数</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/preview_panel.py" line="69"/>
        <source>The layout the recorder will compose; ★ marks the max-resolution user.</source>
        <translation>录制端将合成的布局；★ 标记大流用户。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/preview_panel.py" line="100"/>
        <source>What the recording writes now, refreshed every second.</source>
        <translation>录制当前写出的画面，每秒刷新一次。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/preview_panel.py" line="128"/>
        <source>&lt;b&gt;Live: {0}&lt;/b&gt;</source>
        <translation>&lt;b&gt;实时：{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/preview_panel.py" line="156"/>
        <source>&lt;b&gt;Files of each user&lt;/b&gt;</source>
        <translation>&lt;b&gt;每个用户的文件&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/preview_panel.py" line="167"/>
        <source>Each user&apos;s audio (AAC) and video (as sent: H.264 in .ts, VP8 in .webm) in playlists of their own, named as Agora names them:</source>
        <translation>每个用户的音频（AAC）和视频（不转码：H.264 为 .ts，VP8 为 .webm）各有自己的播放列表，按 Agora 的规则命名：</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/recordings_view.py" line="52"/>
        <source>&lt;b&gt;Recordings&lt;/b&gt;</source>
        <translation>&lt;b&gt;录制列表&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/recordings_view.py" line="95"/>
        <source>No application on this computer opens the folder {0}.</source>
        <translation>本机没有可以打开文件夹 {0} 的应用程序。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/recordings_view.py" line="111"/>
        <source>No application on this computer opens {0}: play it in a player that plays HLS playlists, such as VLC or ffplay (Copy playlist location gives its address).</source>
        <translation>本机没有可以打开 {0} 的应用程序：请用支持 HLS 播放列表的播放器（如 VLC 或 ffplay）播放（“复制播放列表地址”可得到其地址）。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/recordings_view.py" line="128"/>
        <source>Copied to the clipboard: {0}</source>
        <translation>已复制到剪贴板：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/recordings_view.py" line="130"/>
        <source>Copied the locations of {0} playlists to the clipboard.</source>
        <translation>已将 {0} 个播放列表的位置复制到剪贴板。</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="36"/>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="37"/>
        <source>Se&amp;rvers…</source>
        <translation>服务器(&amp;R)…</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="38"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="39"/>
        <source>&amp;Start recording</source>
        <translation>开始录制(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="40"/>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="42"/>
        <source>&amp;Release (keep recording in background)</source>
        <translation>释放（后台继续录制）(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="44"/>
        <source>Release and ca&amp;ncel</source>
        <translation>释放并取消(&amp;N)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="45"/>
        <source>Open &amp;folder</source>
        <translation>打开文件夹(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="46"/>
        <source>&amp;Play</source>
        <translation>播放(&amp;P)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="48"/>
        <source>&amp;Copy playlist location</source>
        <translation>复制播放列表地址(&amp;C)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="50"/>
        <source>Do&amp;wnload…</source>
        <translation>下载(&amp;W)…</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="51"/>
        <source>Remove from &amp;list</source>
        <translation>从列表中移除(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="52"/>
        <source>Start &amp;demo participants…</source>
        <translation>启动演示参与者(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="53"/>
        <source>Stop demo participants</source>
        <translation>停止演示参与者</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="54"/>
        <source>&amp;About cloudrec</source>
        <translation>关于 cloudrec(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="70"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="75"/>
        <source>&amp;Recordings</source>
        <translation>录制(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="82"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../gui/actions.py" line="83"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="109"/>
        <source>Event log</source>
        <translation>事件日志</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="444"/>
        <source>Removed the recording of channel {0} from the list</source>
        <translation>已将频道 {0} 的录制从列表中移除</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="506"/>
        <source>Download failed: {0}</source>
        <translation>下载失败：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="509"/>
        <source>Download failed</source>
        <translation>下载失败</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="518"/>
        <source>Downloaded {0} files ({1}) into {2}</source>
        <translation>已下载 {0} 个文件（{1}）到 {2}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="36"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="37"/>
        <source>starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="38"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="39"/>
        <source>unreachable</source>
        <translation>无法连接</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="40"/>
        <source>failed to start</source>
        <translation>启动失败</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="41"/>
        <source>running in background</source>
        <translation>后台运行中</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="82"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="80"/>
        <source>embedded</source>
        <translation>内置</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="80"/>
        <source>remote</source>
        <translation>远程</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="83"/>
        <source>Server ({0}): {1}</source>
        <translation>服务器（{0}）：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="97"/>
        <source>Active: {0}</source>
        <translation>进行中：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="98"/>
        <source>Upload backlog: {0}</source>
        <translation>待上传：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="104"/>
        <source>Server CPU: {0:.0f} %</source>
        <translation>服务器 CPU：{0:.0f} %</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="120"/>
        <source>Recorders: {0:.1f} s behind</source>
        <translation>录制：落后 {0:.1f} 秒</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="122"/>
        <source>Recorders: on time</source>
        <translation>录制：实时</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="125"/>
        <source>, {0} frames lost</source>
        <translation>，丢失 {0} 帧</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="131"/>
        <source>Input frames dropped: {0}, arrived too late: {1}. Lost frames and a growing lag mean the recording server is short of CPU: record fewer channels or smaller canvases on it, or give it more cores.</source>
        <translation>输入帧丢弃：{0}，迟到：{1}。丢帧或延迟持续增长说明录制服务器 CPU 不足：请减少该服务器上录制的频道或缩小画布，或为其增加 CPU 核数。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="151"/>
        <source>Webhooks: {0} waiting</source>
        <translation>Webhook：{0} 条待发送</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="156"/>
        <source>, failing: {0}</source>
        <translation>，失败：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="158"/>
        <source>, {0} endpoints failing</source>
        <translation>，{0} 个端点失败</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="186"/>
        <source>{0}: {1} waiting, {2} recordings retrying</source>
        <translation>{0}：{1} 条待发送，{2} 个录制在重试</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="190"/>
        <source>; last error at {0}: {1}</source>
        <translation>；最近错误（{0}）：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/status_bar.py" line="194"/>
        <source>; last delivered at {0}</source>
        <translation>；最近送达：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="259"/>
        <source>Using the remote server {0}</source>
        <translation>使用远程服务器 {0}</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="244"/>
        <source>Reattached to the embedded server {0} left recording in the background</source>
        <translation>已重新连接在后台录制的内置服务器 {0}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="357"/>
        <source>Cannot list the server&apos;s recordings: {0}</source>
        <translation>无法列出服务器上的录制：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="390"/>
        <source>Reattached to the recording of channel {0}</source>
        <translation>已重新连接到频道 {0} 的录制</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="266"/>
        <source>Starting the embedded server…</source>
        <translation>正在启动内置服务器…</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="271"/>
        <source>Webhook endpoint left out: {0}</source>
        <translation>已略过 Webhook 端点：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="281"/>
        <source>The embedded server did not start: {0}</source>
        <translation>内置服务器未能启动：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="289"/>
        <source>Embedded server running at {0}</source>
        <translation>内置服务器运行于 {0}</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="313"/>
        <source>The embedded server exited (code {0})</source>
        <translation>内置服务器已退出（代码 {0}）</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="382"/>
        <location filename="../../gui/server_connection.py" line="408"/>
        <source>no recording server is available</source>
        <translation>没有可用的录制服务器</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="457"/>
        <source>The embedded server keeps recording in the background.</source>
        <translation>内置服务器在后台继续录制。</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="478"/>
        <source>The server may exit when its recordings end: {0}</source>
        <translation>服务器可能在其录制结束后退出：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/server_connection.py" line="493"/>
        <source>The server cannot stop by itself: {0}</source>
        <translation>服务器无法自行停止：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="380"/>
        <location filename="../../gui/main_window.py" line="556"/>
        <source>No recording server is available.</source>
        <translation>没有可用的录制服务器。</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="184"/>
        <source>Starting a recording of channel {0}</source>
        <translation>开始录制频道 {0}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="203"/>
        <source>Start failed: {0}</source>
        <translation>启动失败：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="409"/>
        <source>finished before this window started</source>
        <translation>在本窗口启动前已结束</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="618"/>
        <source>Fatal error in recording {0}: {1}</source>
        <translation>录制 {0} 发生严重错误：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="610"/>
        <source>Recorder failure in {0}: {1}: {2}</source>
        <translation>录制 {0} 的录制组件异常：{1}：{2}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="612"/>
        <source>Uploader failure in {0}: {1}: {2}</source>
        <translation>录制 {0} 的上传组件异常：{1}：{2}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="287"/>
        <source>Release failed: {0}</source>
        <translation>释放失败：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="237"/>
        <source>Update failed: {0}</source>
        <translation>更新失败：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="240"/>
        <source>subscription updated</source>
        <translation>订阅已更新</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="242"/>
        <source>Updated whom the recording takes: {0}</source>
        <translation>已更新录制的对象：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="243"/>
        <source>everyone</source>
        <translation>所有人</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="266"/>
        <source>Layout not applied: {0}</source>
        <translation>布局未应用：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="268"/>
        <source>layout updated</source>
        <translation>布局已更新</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="270"/>
        <source>Applied the layout {0} with {1} regions</source>
        <translation>已应用布局 {0}，共 {1} 个区域</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="294"/>
        <source>released; recording on</source>
        <translation>已释放；继续录制</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="305"/>
        <source>released and cancelled</source>
        <translation>已释放并取消</translation>
    </message>
    <message>
        <location filename="../../gui/recordings_controller.py" line="307"/>
        <source>released</source>
        <translation>已释放</translation>
    </message>
    <message>
        <location filename="../../gui/demo_participants.py" line="52"/>
        <source>Started {0} demo participants in channel {1}</source>
        <translation>已在频道 {1} 启动 {0} 个演示参与者</translation>
    </message>
    <message>
        <location filename="../../gui/demo_participants.py" line="64"/>
        <source>bots: {0}</source>
        <translation>演示参与者：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/demo_participants.py" line="68"/>
        <source>Demo participants ended (code {0})</source>
        <translation>演示参与者已结束（代码 {0}）</translation>
    </message>
    <message>
        <location filename="../../gui/main_window.py" line="588"/>
        <source>Settings saved; a new server choice applies at the next start.</source>
        <translation>设置已保存；新的服务器选择在下次启动时生效。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/about.py" line="21"/>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/about.py" line="28"/>
        <source>About cloudrec</source>
        <translation>关于 cloudrec</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/about.py" line="30"/>
        <source>&lt;b&gt;cloudrec {0}&lt;/b&gt;&lt;br&gt;Cloud recording of real-time audio/video channels.&lt;br&gt;Settings: {1}</source>
        <translation>&lt;b&gt;cloudrec {0}&lt;/b&gt;&lt;br&gt;实时音视频频道的云端录制。&lt;br&gt;设置文件：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/about.py" line="37"/>
        <source>The recording server&apos;s API reference: &lt;a href=&quot;{0}&quot;&gt;{0}&lt;/a&gt;</source>
        <translation>录制服务器的 API 参考：&lt;a href=&quot;{0}&quot;&gt;{0}&lt;/a&gt;</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/download.py" line="28"/>
        <source>Download the recording into</source>
        <translation>将录制下载到</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/download.py" line="43"/>
        <source>Downloading {0}…</source>
        <translation>正在下载 {0}…</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/download.py" line="44"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/download.py" line="50"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/rate_plot.py" line="38"/>
        <source>The last minutes: output rate (kb/s, blue) and upload backlog (slices written, not yet stored, orange), each scaled to its largest value.</source>
        <translation>最近几分钟：输出码率（kb/s，蓝色）和上传积压（已写出但尚未存储的切片，橙色），各自按其最大值缩放。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/rate_plot.py" line="80"/>
        <source>{0} kb/s</source>
        <translation>{0} kb/s</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/rate_plot.py" line="86"/>
        <source>backlog {0}</source>
        <translation>积压 {0}</translation>
    </message>
    <message>
        <location filename="../../gui/server_pool.py" line="95"/>
        <source>This computer (built-in server)</source>
        <translation>本机（内置服务器）</translation>
    </message>
    <message>
        <location filename="../../gui/server_pool.py" line="101"/>
        <source>recordings: {0}, CPU {1:.0f} %</source>
        <translation>录制数：{0}，CPU {1:.0f} %</translation>
    </message>
    <message>
        <location filename="../../gui/server_pool.py" line="129"/>
        <source>server URL: {0} is not an http:// or https:// URL</source>
        <translation>服务器 URL：{0} 不是 http:// 或 https:// 地址</translation>
    </message>
    <message>
        <location filename="../../gui/server_pool.py" line="135"/>
        <source>server URL: the window holds {0} already</source>
        <translation>服务器 URL：窗口中已有 {0}</translation>
    </message>
</context>
<context>
    <name>NewRecordingPanel</name>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="166"/>
        <source>Use</source>
        <translation>使用</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="168"/>
        <source>Use the recommended bitrate</source>
        <translation>使用推荐码率</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="175"/>
        <source>Pick…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="177"/>
        <source>Choose from the users in the channel now</source>
        <translation>从当前频道内的用户中选择</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="185"/>
        <source>Also write MP4 files</source>
        <translation>同时生成 MP4 文件</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="189"/>
        <source>Beside the HLS playlist, one MP4 file that plays anywhere, a new one every 2 hours (Agora&apos;s avFileType [&quot;hls&quot;, &quot;mp4&quot;])</source>
        <translation>在 HLS 播放列表之外生成可在任何播放器播放的 MP4 文件，每 2 小时开始一个新文件（即 Agora 的 avFileType [&quot;hls&quot;, &quot;mp4&quot;]）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="200"/>
        <source>Live streams</source>
        <translation>直播推流</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="202"/>
        <source>Update the selected recording</source>
        <translation>更新所选录制</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="206"/>
        <source>Apply these lists of voices and pictures to the recording selected in the list, while it records (Agora&apos;s update)</source>
        <translation>录制进行中，将这些声音和画面名单应用到列表中所选的录制（Agora 的 update）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="223"/>
        <source>Recording</source>
        <translation>录制</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="233"/>
        <source>Transcoding</source>
        <translation>转码</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="234"/>
        <source>Storage</source>
        <translation>存储</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="251"/>
        <source>Start recording</source>
        <translation>开始录制</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="268"/>
        <source>not needed for the sandbox app</source>
        <translation>沙盒应用无需 Token</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="270"/>
        <source>32 hexadecimal characters; the sandbox app needs no token.</source>
        <translation>32 个十六进制字符；沙盒应用无需 Token。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="271"/>
        <source>The channel to record (1 to 64 bytes).</source>
        <translation>要录制的频道（1 到 64 字节）。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="272"/>
        <source>AccessToken2 of the recorder, for apps with a certificate.</source>
        <translation>录制端的 AccessToken2，用于启用了 App 证书的应用。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="274"/>
        <source>The recorder&apos;s own uid in the channel: 1 to 4294967295, unique in the channel.</source>
        <translation>录制端在频道内的 uid：1 到 4294967295，在频道内唯一。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="312"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="334"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="315"/>
        <source>A JPEG snapshot of the composed picture every this many seconds (1 to 3600), stored beside the playlist and shown in the list of recordings; off: none. Not for audio-only recordings (Agora&apos;s snapshotConfig)</source>
        <translation>每隔这么多秒对合成画面截图一次（JPEG，1 到 3600 秒），与播放列表存放在一起，并显示在录制列表中；关闭：不截图。纯音频录制不可截图（Agora 的 snapshotConfig）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="343"/>
        <source>Snapshot every</source>
        <translation>截图间隔</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="470"/>
        <source>Individual recording copies each user&apos;s video as sent: no layout</source>
        <translation>单流录制按原样保存每个用户的视频：没有合流布局</translation>
    </message>
    <message>
        <location filename="../../gui/forms/new_recording.py" line="549"/>
        <source>recommended: {0} kbps</source>
        <translation>推荐：{0} Kbps</translation>
    </message>
</context>
<context>
    <name>RecordingsModel</name>
    <message>
        <location filename="../../gui/models/recordings.py" line="44"/>
        <source>connecting</source>
        <translation>正在连接</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="45"/>
        <source>recording</source>
        <translation>录制中</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="46"/>
        <source>stopping</source>
        <translation>正在停止</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="47"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="48"/>
        <source>uploaded</source>
        <translation>已上传</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="49"/>
        <source>backed up, retrying</source>
        <translation>已备份，重试上传中</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="50"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="51"/>
        <source>recording in background</source>
        <translation>后台录制中</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="52"/>
        <source>released</source>
        <translation>已释放</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="242"/>
        <source>{0} kb/s</source>
        <translation>{0} kb/s</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="245"/>
        <source>{0}, {1} dropped</source>
        <translation>{0}，丢弃 {1}</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="264"/>
        <source>Channel</source>
        <translation>频道</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="265"/>
        <source>Recording ID</source>
        <translation>录制 ID</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="266"/>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="267"/>
        <source>Duration</source>
        <translation>时长</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="268"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="269"/>
        <source>Upload</source>
        <translation>上传</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="270"/>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="271"/>
        <source>Last event</source>
        <translation>最近事件</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="313"/>
        <source>Latest snapshot: {0}</source>
        <translation>最新截图：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="320"/>
        <source>{0} of {1} stored</source>
        <translation>已存储 {0}（共 {1}）</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="326"/>
        <source>Files are named with {0}; the window&apos;s id is {1}</source>
        <translation>文件以 {0} 命名；本窗口的 ID 是 {1}</translation>
    </message>
    <message>
        <location filename="../../gui/models/recordings.py" line="343"/>
        <source>{0}/{1} slices</source>
        <translation>{0}/{1} 个切片</translation>
    </message>
</context>
<context>
    <name>RosterDialog</name>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="53"/>
        <source>Users in channel {0}:</source>
        <translation>频道 {0} 内的用户：</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="62"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="84"/>
        <source>Check at least one; to unset the list, delete its text</source>
        <translation>请至少勾选一项；如需取消该名单，请删除其文本</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="92"/>
        <source>Everyone (#allstream#)</source>
        <translation>所有人（#allstream#）</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="99"/>
        <source>nothing</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="101"/>
        <source>{0} ({1}; publishes {2})</source>
        <translation>{0}（{1}；发布 {2}）</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="104"/>
        <source>{0} (not in the channel now)</source>
        <translation>{0}（当前不在频道内）</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="134"/>
        <source>Reading the channel&apos;s users…</source>
        <translation>正在读取频道内的用户…</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="138"/>
        <source>Cannot read the channel&apos;s users: {0}</source>
        <translation>无法读取频道内的用户：{0}</translation>
    </message>
    <message numerus="yes">
        <location filename="../../gui/dialogs/roster_dialog.py" line="143"/>
        <source>%n user(s) in the channel.</source>
        <translation>
            <numerusform>频道内有 %n 个用户。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/roster_dialog.py" line="145"/>
        <source>Nobody is in the channel now.</source>
        <translation>当前频道内没有用户。</translation>
    </message>
</context>
<context>
    <name>ServerChooser</name>
    <message>
        <location filename="../../gui/widgets/server_chooser.py" line="26"/>
        <source>Record on</source>
        <translation>录制服务器</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/server_chooser.py" line="31"/>
        <source>Least loaded: the server with the fewest recordings (then the least CPU), its load read when the recording starts.</source>
        <translation>负载最低：录制数最少（其次 CPU 占用最低）的服务器，负载在开始录制时读取。</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/server_chooser.py" line="49"/>
        <source>Least loaded</source>
        <translation>负载最低</translation>
    </message>
</context>
<context>
    <name>ServersDialog</name>
    <message>
        <location filename="../../gui/dialogs/servers_dialog.py" line="37"/>
        <source>Recording servers</source>
        <translation>录制服务器</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/servers_dialog.py" line="42"/>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/servers_dialog.py" line="42"/>
        <source>Load</source>
        <translation>负载</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/servers_dialog.py" line="53"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/servers_dialog.py" line="69"/>
        <source>the server&apos;s bearer token (kept in the keyring)</source>
        <translation>服务器的 Bearer 令牌（保存在密钥环中）</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/servers_dialog.py" line="70"/>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/servers_dialog.py" line="71"/>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/servers_dialog.py" line="79"/>
        <source>Add server</source>
        <translation>添加服务器</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="48"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="54"/>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="57"/>
        <source>Webhooks</source>
        <translation>Webhook</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="59"/>
        <location filename="../../gui/dialogs/settings_dialog.py" line="66"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="62"/>
        <source>System default</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="67"/>
        <source>A new language applies the next time the window starts.</source>
        <translation>新语言在下次启动窗口时生效。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="70"/>
        <source>Recording server</source>
        <translation>录制服务器</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="72"/>
        <source>Embedded server on this computer</source>
        <translation>本机内置服务器</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="73"/>
        <source>Remote server</source>
        <translation>远程服务器</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="87"/>
        <source>unchanged</source>
        <translation>不变</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="87"/>
        <source>not set</source>
        <translation>未设置</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="90"/>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="91"/>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="93"/>
        <source>The token is kept in the OS keyring.</source>
        <translation>Token 保存在系统密钥环中。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/settings_dialog.py" line="96"/>
        <source>No OS keyring is available: the token is kept only until the window closes.</source>
        <translation>没有可用的系统密钥环：令牌仅保存到窗口关闭为止。</translation>
    </message>
</context>
<context>
    <name>StorageProfiles</name>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="68"/>
        <source>Profile</source>
        <translation>配置</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="73"/>
        <source>Save as…</source>
        <translation>另存为…</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="75"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="77"/>
        <source>Test storage</source>
        <translation>测试存储</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="99"/>
        <source>(not saved)</source>
        <translation>（未保存）</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="121"/>
        <source>Save storage profile</source>
        <translation>保存存储配置</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="122"/>
        <source>Profile name:</source>
        <translation>配置名称：</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="140"/>
        <source>Delete profile</source>
        <translation>删除配置</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="142"/>
        <source>Delete the storage profile {0}? Its access key and secret key are removed from the keyring; recordings already made are not touched.</source>
        <translation>删除存储配置 {0}？其访问密钥和私有密钥将从密钥环中删除；已完成的录制不受影响。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="183"/>
        <source>Loaded profile {0}.</source>
        <translation>已载入配置 {0}。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="221"/>
        <source>Saved profile {0}.</source>
        <translation>已保存配置 {0}。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="232"/>
        <source>Deleted profile {0}.</source>
        <translation>已删除配置 {0}。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="238"/>
        <source>Fix the storage settings first.</source>
        <translation>请先修正存储设置。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="247"/>
        <source>Testing storage…</source>
        <translation>正在测试存储…</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="251"/>
        <source>Test storage is not available on this server.</source>
        <translation>此服务器不支持测试存储。</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="253"/>
        <source>Storage check failed: {0}</source>
        <translation>存储检查失败：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/forms/storage_profiles.py" line="256"/>
        <source>Storage works: a test file was written and deleted.</source>
        <translation>存储可用：已写入并删除一个测试文件。</translation>
    </message>
</context>
<context>
    <name>StreamList</name>
    <message>
        <location filename="../../gui/widgets/stream_list.py" line="45"/>
        <source>A stream URL with its key: rtmp://host/app/key, rtmps://host/app/key or srt://host:port?streamid=…; kept in the keyring, shown masked</source>
        <translation>含推流密钥的推流地址：rtmp://主机/应用/密钥、rtmps://主机/应用/密钥 或 srt://主机:端口?streamid=…；保存在系统密钥环中，显示时隐藏密钥</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/stream_list.py" line="51"/>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/stream_list.py" line="66"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/stream_list.py" line="101"/>
        <source>{0} is not a stream URL; {1}</source>
        <translation>{0} 不是推流地址；应为 {1}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/stream_list.py" line="106"/>
        <source>{0} is in the list already</source>
        <translation>{0} 已在列表中</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/stream_list.py" line="108"/>
        <source>at most {0} live streams</source>
        <translation>最多 {0} 路直播推流</translation>
    </message>
</context>
<context>
    <name>TableObserver</name>
    <message>
        <location filename="../../gui/models/observer.py" line="37"/>
        <source>connecting</source>
        <translation>正在连接</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="46"/>
        <source>started</source>
        <translation>已开始</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="56"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="61"/>
        <source>uploaded: {0}</source>
        <translation>已上传：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="70"/>
        <source>kept in the local backup, retrying: {0}</source>
        <translation>已保存在本地备份，重试上传中：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="81"/>
        <source>uploaded {0}%</source>
        <translation>已上传 {0}%</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="85"/>
        <source>snapshot stored: {0}</source>
        <translation>截图已存储：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="89"/>
        <source>live stream {0}: {1}</source>
        <translation>直播推流 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="98"/>
        <source>recorder: {0} ({1}): {2}</source>
        <translation>录制组件：{0}（{1}）：{2}</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="108"/>
        <source>uploader: {0} ({1}): {2}</source>
        <translation>上传组件：{0}（{1}）：{2}</translation>
    </message>
    <message>
        <location filename="../../gui/models/observer.py" line="118"/>
        <source>fatal error: {0} ({1})</source>
        <translation>严重错误：{0}（{1}）</translation>
    </message>
</context>
<context>
    <name>WebhooksPage</name>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="109"/>
        <location filename="../../gui/dialogs/webhooks_page.py" line="152"/>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="109"/>
        <location filename="../../gui/dialogs/webhooks_page.py" line="154"/>
        <source>Events</source>
        <translation>事件</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="109"/>
        <source>Running server</source>
        <translation>运行中的服务器</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="127"/>
        <source>The receiver&apos;s http:// or https:// URL (https beyond this computer). A user:password in it is sent as HTTP Basic auth and kept in the keyring with the secret; type it again to change it.</source>
        <translation>接收端的 http:// 或 https:// URL（本机以外请用 https）。其中的 user:password 作为 HTTP Basic 认证发送，与密钥一起保存在密钥环中；要更改请重新输入。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="137"/>
        <source>The key of the Agora-Signature and Agora-Signature-V2 headers (Agora&apos;s console calls it the Secret). Kept in the OS keyring, never shown again.</source>
        <translation>Agora-Signature 和 Agora-Signature-V2 头的签名密钥（Agora 控制台中称为 Secret）。保存在系统密钥环中，不再显示。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="143"/>
        <location filename="../../gui/dialogs/webhooks_page.py" line="225"/>
        <source>every event</source>
        <translation>全部事件</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="146"/>
        <source>Event types this endpoint takes, as 31, 32, 11; empty for every event:</source>
        <translation>此端点接收的事件类型，如 31, 32, 11；留空表示全部事件：</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="153"/>
        <source>Secret</source>
        <translation>密钥</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="171"/>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="173"/>
        <source>Save changes</source>
        <translation>保存修改</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="175"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="192"/>
        <source>Endpoints apply at the next start of the embedded server. The secret is kept in the OS keyring.</source>
        <translation>端点在内置服务器下次启动时生效。密钥保存在系统密钥环中。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="200"/>
        <source>A remote server has its own webhook endpoints, set where it runs (CLOUDREC_WEBHOOKS, docs/webhooks.md): these are the embedded server&apos;s.</source>
        <translation>远程服务器有自己的 Webhook 端点，在其运行处设置（CLOUDREC_WEBHOOKS，见 docs/webhooks.md）：这里的是内置服务器的端点。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="249"/>
        <source>Send test event</source>
        <translation>发送测试事件</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="270"/>
        <source>not on the remote server: it has its own endpoints</source>
        <translation>不在远程服务器上：它有自己的端点</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="271"/>
        <source>not on the running server: applies at its next start</source>
        <translation>不在运行中的服务器上：下次启动时生效</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="273"/>
        <source>{0} waiting</source>
        <translation>{0} 条待发送</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="275"/>
        <source>; last error {0}: {1}</source>
        <translation>；最近错误 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="279"/>
        <source>; delivered {0}</source>
        <translation>；送达 {0}</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="306"/>
        <source>unchanged</source>
        <translation>不变</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="328"/>
        <source>endpoint {0} has this URL already; name each receiver once (one endpoint can take several event types)</source>
        <translation>端点 {0} 已使用此 URL；每个接收端只填一次（一个端点可接收多种事件类型）</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="338"/>
        <source>at most {0} endpoints</source>
        <translation>最多 {0} 个端点</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="402"/>
        <source>The remote server does not have the endpoint {0}: a remote server has its own webhook endpoints, set where it runs.</source>
        <translation>远程服务器没有端点 {0}：远程服务器有自己的 Webhook 端点，在其运行处设置。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="410"/>
        <source>The running server does not have the endpoint {0} (added or changed since it started): it applies at the next start of the embedded server.</source>
        <translation>运行中的服务器没有端点 {0}（在其启动后添加或修改）：它在内置服务器下次启动时生效。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="416"/>
        <source>Sending a test event to {0}…</source>
        <translation>正在向 {0} 发送测试事件…</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="420"/>
        <source>The test event was not sent: {0}</source>
        <translation>测试事件未发送：{0}</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="430"/>
        <source>Test event {0} delivered to {1} in {2} ms.</source>
        <translation>测试事件 {0} 已送达 {1}，用时 {2} 毫秒。</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/webhooks_page.py" line="431"/>
        <source>Test event {0} not delivered to {1}: {2} (after {3} ms).</source>
        <translation>测试事件 {0} 未送达 {1}：{2}（{3} 毫秒后）。</translation>
    </message>
</context>
<context>
    <name>crash</name>
    <message>
        <location filename="../../gui/dialogs/crash.py" line="29"/>
        <source>Unexpected error</source>
        <translation>意外错误</translation>
    </message>
    <message>
        <location filename="../../gui/dialogs/crash.py" line="31"/>
        <source>Something went wrong: {0}</source>
        <translation>出现问题：{0}</translation>
    </message>
</context>
</TS>
