"""Program images: which accounts hold an ELF, their image ids, and the loaded executables.

An image id is the SHA-256 of the data of the account that holds the ELF: a BPFLoader2 program
account, or an upgradeable program's programdata account (ELF from byte 45). The kernel names
images by these ids (`heliostat_program_enter`); this cache loads each ELF once, with the
registry that marks kernel calls.
"""

from __future__ import annotations

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.primitives.errors import HeliostatError
from heliostat.runtime.errors import RuntimeLayerError
from heliostat.runtime.hashing import sha256
from heliostat.svm.elf import load_elf
from heliostat.svm.executable import Executable
from heliostat.svm.kernel_abi import program_registry
from heliostat.svm.programs import BPF_LOADER_2_ID, BPF_LOADER_UPGRADEABLE_ID

PROGRAM_TAG = 2  # UpgradeableLoaderState::Program
PROGRAMDATA_TAG = 3  # UpgradeableLoaderState::ProgramData
PROGRAMDATA_ELF_OFFSET = 45


class UnknownImageError(RuntimeLayerError):
    """The kernel asked for an image id no witness account provided."""

    reason = "unknown_image"


def programdata_address(account: Account) -> Pubkey | None:
    """Return the programdata account of an upgradeable program account, else None."""
    data = bytes(account.data)
    if (
        account.owner == BPF_LOADER_UPGRADEABLE_ID
        and account.executable
        and len(data) >= 36
        and int.from_bytes(data[:4], "little") == PROGRAM_TAG
    ):
        return Pubkey(data[4:36])
    return None


def elf_of(account: Account) -> bytes | None:
    """Return the ELF an account holds, or None."""
    owner = account.owner  # before the data: most accounts are not the loaders' (no copy)
    if owner == BPF_LOADER_2_ID and account.executable:
        return bytes(account.data)
    if owner != BPF_LOADER_UPGRADEABLE_ID:
        return None
    data = bytes(account.data)
    if len(data) > PROGRAMDATA_ELF_OFFSET and int.from_bytes(data[:4], "little") == PROGRAMDATA_TAG:
        return data[PROGRAMDATA_ELF_OFFSET:]
    return None


class ProgramImages:
    """Image ids of ELF-holding accounts, and their executables, loaded on first use."""

    def __init__(self) -> None:
        # key -> (the account object, its data, id): the same object is the same data
        self._by_key: dict[Pubkey, tuple[Account, bytes, bytes]] = {}
        self._elves: dict[bytes, bytes] = {}
        self._loaded: dict[bytes, Executable] = {}

    def image_id(self, key: Pubkey, account: Account) -> bytes | None:
        """Return the image id of ``account`` if it holds an ELF (remembered), else None."""
        cached = self._by_key.get(key)
        if cached is not None and cached[0] is account:
            return cached[2]
        elf = elf_of(account)
        if elf is None:
            return None
        data = bytes(account.data)
        if cached is not None and cached[1] == data:  # one memcmp instead of a hash
            self._by_key[key] = (account, data, cached[2])
            return cached[2]
        image = sha256(data)
        self._by_key[key] = (account, data, image)
        self._elves[image] = elf
        return image

    def register(self, image: bytes, elf: bytes) -> None:
        """Name ``elf`` by ``image`` (an id the kernel gets from elsewhere: a data hash)."""
        self._elves.setdefault(image, elf)

    def resolve(self, image: bytes) -> Executable:
        """Return the loaded program for an image id (the kernel switch's image resolver)."""
        executable = self._loaded.get(image)
        if executable is None:
            elf = self._elves.get(image)
            if elf is None:
                raise UnknownImageError(f"no ELF for image {image.hex()}")
            try:
                executable = load_elf(elf, program_registry(), reject_broken_elfs=False)
            except HeliostatError as exc:
                raise UnknownImageError(f"image {image.hex()} does not load: {exc}") from exc
            self._loaded[image] = executable
        return executable
