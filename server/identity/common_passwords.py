"""A small bundled list of passwords that attackers try first, for `passwords.check_password`.

It holds the top of the public leak rankings (English and Chinese sites), the keyboard walks and the
"complex" defaults that pass composition rules (Admin@123, P@ssw0rd, Aa123456…), in lower case.
ASVS 6.2.4 asks for at least the top 3 000; this list is a floor, not that, and can grow.
Must not: hold anything but lower-case passwords, or be read for any other purpose.
"""

from __future__ import annotations

from typing import Final

_LIST: Final = """
000000 00000000 0000000000 000000000000 111111 11111111 1111111111 111111111111 112233 11223344
112233445566 121212 12121212 123123 123123123 123123123123 123321 123321123 1234 12341234 12344321
12345 123456 1234567 12345678 123456789 1234567890 12345678910 123456789012 1234567890ab 123456a
123456aa 123456abc 123456789a 123456789abc 123456qq 123654 123654789 123qwe 123qweasd 123qweasdzxc
1314520 131313 147258 147258369 147852369 159357 159753 1q2w3e 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y
1qaz2wsx 1qaz2wsx3edc 1qaz@wsx 1qazxsw2 222222 22222222 31415926 5201314 520520 521521 555555 654321
666666 66666666 7758521 777777 7777777 789456123 87654321 888888 88888888 987654321 a123123
a12345 a123456 a1234567 a12345678 a123456789 aa123456 aa12345678 aaaaaa aaaaaaaa abc123 abc123456
abc12345678 abc@123 abc@1234 abcd1234 abcd@1234 abcdefghijkl access admin admin123 admin1234 admin@123
admin@1234 admin@123456 admin123! administrator asdasd asdasdasd asdf1234 asdfasdf asdfgh asdfghjkl
asdfghjkl123 aa1234567890 baseball batman charlie dearbook dragon football freedom hello123 huawei@123
iloveyou iloveyou1 iloveyou1234 jennifer letmein letmein1 master monkey mustang p@ssw0rd p@ssw0rd1234
p@ssword passw0rd passw0rd! password password! password1 password1! password12 password123 password123!
password1234 password@123 passwordpassword princess q1w2e3r4 qazwsx qazwsx123 qazwsxedc qazwsxedcrfv
qq123456 qq123456789 qwe123 qwe123456 qwe@123 qweasd qweasd123 qweasdzxc qwer1234 qwer1234! qwer@1234
qwer1234asdf qwerasdfzxcv qwerty qwerty123 qwertyui qwertyuiop qwertyuiop123 root root123 root@123
shadow shanghai shanghai123 sunshine superman test123 test@123 trustno1 welcome welcome1 welcome1!
welcome123 welcome12345 woaini woaini1314 woaini1314520 woaini520 x123456 xiaoming zaq12wsx zxc123
zxc123456 zxcvbn zxcvbnm zxcvbnm123 zxcvbnm12345
"""

COMMON_PASSWORDS: Final[frozenset[str]] = frozenset(_LIST.split())
