from tests.e2e.conftest import Vigil


async def test_nul(vigil: Vigil):
    r = await vigil.report("alice", "dave", details="a\x00b")
    print("NUL:", r.ephemeral, r.content)
    print(vigil.proc.log_text()[-3000:])
