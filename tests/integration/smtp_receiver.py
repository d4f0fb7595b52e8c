# smtp_receiver: the tests' SMTP server on loopback (aiosmtpd, Debian's
# python3-aiosmtpd, installed by scripts/deps.sh). Usage:
#   /usr/bin/python3 smtp_receiver.py PORT DIR
# Every message received is parsed with Python's own email package and
# written to DIR/N.json: {"from","to","subject","text","attachments":
# [{"filename","content_type","base64"}]} (N counts from 1), so the test
# reads what a mail client would show. Prints "ready PORT" once listening.
import base64, email, email.policy, itertools, json, os, sys, time
from aiosmtpd.controller import Controller


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
                attachments.append({'filename': part.get_filename(), 'content_type': part.get_content_type(),
                                    'base64': base64.b64encode(part.get_payload(decode=True)).decode()})
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
