"""The most common passwords, lower-cased (from the public top lists: NCSC's top 100k, SecLists' top
10k), refused by the password policy. Short ones are refused by the length rule anyway; they stay so
that the list can be read against its sources and a lower minimum length would still catch them."""

from __future__ import annotations

COMMON_PASSWORDS: frozenset[str] = frozenset("""
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football
monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman
1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster
soccer harley batman andrew tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel
starwars klaster 112233 george computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313
freedom 777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda summer love ashley nicole
chelsea biteme matthew access yankees 987654321 dallas austin thunder taylor matrix minecraft
password1 password12 password123 password1234 password12345 passw0rd p@ssw0rd p@ssword passwort
1234567891 12345678910 0123456789 9876543210 1111111111 0000000000 1234512345 1122334455 1q2w3e4r5t
1q2w3e4r5t6y 1qaz2wsx3edc qwerty123 qwerty1234 qwerty12345 qwertyuiop1 qwertyuiop123 qwertyuiop[]
q1w2e3r4t5 q1w2e3r4t5y6 zaq12wsx zaq1zaq1 zaq12wsxcde asdfghjkl asdfghjkl1 zxcvbnm123 1234qwer
iloveyou1 iloveyou12 iloveyou123 iloveyou2 letmein123 welcome welcome1 welcome123 welcome2024 admin
admin123 admin1234 administrator administrator1 changeme changeme123 default password! secret
secret123 superman123 football123 baseball123 princess1 sunshine1 abcdef abcdefg abcdefgh abcdefghi
abcdefghij abc12345 abcd1234 abcd12345 1234abcd aa123456 a1b2c3d4 a1b2c3d4e5 test123 test1234
testtest 1234567890q qazwsxedc qazwsxedcrfv 1qazxsw2 !qaz2wsx 88888888 99999999 12341234 123123123
123456654321 147258369 987654321a 11223344 5201314 aaaaaaaaaa labelwise labelwise1 labelwise123
""".split())
