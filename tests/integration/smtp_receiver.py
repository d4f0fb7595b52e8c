# smtp_receiver: the tests' SMTP server on loopback (aiosmtpd, Debian's
# python3-aiosmtpd, installed by scripts/deps.sh). Usage:
#   /usr/bin/python3 smtp_receiver.py PORT DIR
# Every message received is parsed with Python's own email package and
# written to DIR/N.json: {"from","to","subject","text","attachments":
# [{"filename","content_type","base64","rows"}]} (N counts from 1), so the test
# reads what a mail client would show; an .xlsx attachment's first sheet is
# read with the standard library (zipfile, ElementTree) into rows of cells. Prints "ready PORT" once listening.
import base64, email, email.policy, io, itertools, json, os, re, sys, time, zipfile
import xml.etree.ElementTree as ET
from aiosmtpd.controller import Controller


M = '{http://schemas.openxmlformats.org/spreadsheetml/2006/main}'


def col_index(ref):
    n = 0
    for ch in re.match(r'[A-Z]+', ref).group(0):
        n = n * 26 + ord(ch) - 64
    return n - 1


def xlsx_rows(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if 'xl/sharedStrings.xml' in z.namelist():
        for si in ET.fromstring(z.read('xl/sharedStrings.xml')).iter(M + 'si'):
            shared.append(''.join(t.text or '' for t in si.iter(M + 't')))
    rows = []
    for row in ET.fromstring(z.read('xl/worksheets/sheet1.xml')).iter(M + 'row'):
        cells = []
        for c in row.findall(M + 'c'):
            i = col_index(c.get('r'))
            while len(cells) < i:
                cells.append(None)
            t, v = c.get('t'), c.find(M + 'v')
            if t == 's':
                val = shared[int(v.text)]
            elif t == 'inlineStr':
                val = ''.join(x.text or '' for x in c.iter(M + 't'))
            elif t == 'str':
                val = v.text if v is not None else ''
            elif v is None:
                val = None
            else:
                val = float(v.text)
            cells.append(val)
        rows.append(cells)
    return rows


class Handler:
    def __init__(self, out):
        self.out = out
        self.n = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        text, attachments = '', []
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_filename():
                data = part.get_payload(decode=True)
                att = {'filename': part.get_filename(), 'content_type': part.get_content_type(),
                       'base64': base64.b64encode(data).decode()}
                if part.get_filename().endswith('.xlsx'):
                    att['rows'] = xlsx_rows(data)
                attachments.append(att)
            elif part.get_content_type() == 'text/plain':
                text += part.get_content()
        rec = {'from': envelope.mail_from, 'to': envelope.rcpt_tos, 'subject': str(msg['subject']),
               'text': text, 'attachments': attachments}
        n = next(self.n)
        tmp = os.path.join(self.out, '%d.tmp' % n)
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(rec, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.out, '%d.json' % n))
        return '250 OK'


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    c = Controller(Handler(out), hostname='127.0.0.1', port=port)
    c.start()
    print('ready %d' % port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        c.stop()


if __name__ == '__main__':
    main()
