// Each command's usage line: `gbcs-rig help` and every `--help` print them without loading the
// commands themselves (and their MQTT, serial and browser libraries), so help starts at once.

export const DECODE_USAGE =
  'usage: gbcs-rig decode <capture.pcap|pcapng> [--key HEX]... [--key-file FILE] [--format jsonl|text] ' +
  '[--fcs crc16|ti-cc24xx|none] [--pcapng OUT]';

export const EXTCAP_USAGE =
  'usage: gbcs-rig extcap --extcap-interfaces | --extcap-interface IF (--extcap-dlts | --extcap-config | --capture --fifo PATH [--channel N] [--comments] [--key-file FILE])';

export const RUN_USAGE =
  'usage: gbcs-rig run [--rig FILE] [--out DIR] [--bench ID[,ID…]]… [--grep PATTERN] [--one-at-a-time]' +
  ' [--fail-on fail,inconclusive,error,not-run] [--signing-key FILE] [--no-pdf] [--no-allure]' +
  ' | --resume DIR [--fail-on …] [--signing-key FILE] [--no-pdf] [--no-allure]';

export const SNIFF_USAGE =
  'usage: gbcs-rig sniff (--rig FILE [--bench ID] --sniffer ID | --kind KIND --path DEV --channel N) --out FILE.pcapng|- ' +
  '[--channel N] [--comments [--key HEX]... [--key-file FILE]] [--count N] [--seconds S]';

export const POWER_USAGE = 'usage: gbcs-rig power --rig FILE [--bench ID] --relay ID on|off|cycle|query [--off-seconds N]';

export const REPORT_USAGE = 'usage: gbcs-rig report <run-folder> [--signing-key FILE] [--key-file FILE] [--accept-changes]';

export const VERIFY_USAGE = 'usage: gbcs-rig verify <run-folder> [--public-key FILE]';
export const CHECK_USAGE = 'usage: gbcs-rig check --rig FILE [--bench ID] [--power-on] [--listen-seconds N]';

export const PLAN_USAGE = 'usage: gbcs-rig plan [--rig FILE] [--bench ID[,ID…]]… [--grep PATTERN] [--one-at-a-time] [--json]';
