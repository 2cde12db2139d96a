"""The people of the procurement transcripts, whatever the channel: who they are and what
they answer, so the console and Telegram tell the same story."""

from __future__ import annotations

from dataclasses import asdict, dataclass

OFFICER = "+6281100000002"
COMPANY = "+6281300000001"
QUICK_NEED = (
    "/kebutuhan 5000 pasang sarung tangan kerja katun, Rp 8.000/pasang, batas 30/11, "
    "kirim ke Jababeka"
)


@dataclass(frozen=True)
class Maker:
    phone: str
    business: str
    sector: str
    kecamatan: str
    product: str
    unit: str
    capacity: str

    def answers(self) -> dict[str, str]:
        """What the maker types or taps while registering."""
        answers = asdict(self)
        del answers["phone"]
        return answers


GLOVES_A = Maker(
    phone="+6281200000021",
    business="Konveksi Tangan Terampil",
    sector="Pakaian jadi",
    kecamatan="Cikarang Barat",
    product="Sarung tangan kerja katun bintik",
    unit="pasang",
    capacity="3000",
)
GLOVES_B = Maker(
    phone="+6281200000022",
    business="Rajut Glove Setu",
    sector="Pakaian jadi",
    kecamatan="Setu",
    product="Glove katun rajut",
    unit="pasang",
    capacity="2500",
)
DOLLS = Maker(  # a different trade: never called for gloves
    phone="+6281200000023",
    business="Boneka Ceria",
    sector="Pengolahan lainnya",
    kecamatan="Sukawangi",
    product="Boneka karakter",
    unit="pcs",
    capacity="200",
)
