# pragma version 0.4.3
# pragma evm-version cancun
"""
@title Trellis registry
@notice Anchors the Merkle roots of Trellis document batches, and keeps the registry of
        financing fingerprints that stops one receivable from being financed twice.
        Authorised submitters (financiers) anchor and register; the owner manages them.
@dev The block number of each anchored root is kept so that a verifier can check that
     the anchoring block is still canonical. Fingerprints are opaque keyed hashes: the
     chain learns nothing about the invoice behind one.
"""

MAX_FINGERPRINTS: constant(uint256) = 64

event Anchored:
    root: indexed(bytes32)
    submitter: indexed(address)
    leafCount: uint256
    manifestHash: bytes32

event Registered:
    fingerprint: indexed(bytes32)
    registrant: indexed(address)
    claim: bytes32

event SubmitterAdded:
    account: indexed(address)

event SubmitterRemoved:
    account: indexed(address)

owner: public(address)
isSubmitter: public(HashMap[address, bool])
anchoredAt: public(HashMap[bytes32, uint256])
registrantOf: public(HashMap[bytes32, address])
claimOf: public(HashMap[bytes32, bytes32])


@deploy
def __init__():
    self.owner = msg.sender
    self.isSubmitter[msg.sender] = True
    log SubmitterAdded(account=msg.sender)


@external
def anchor(root: bytes32, leafCount: uint256, manifestHash: bytes32):
    """
    @notice Anchor a batch root; the block number is recorded. A root anchors only once.
    """
    assert self.isSubmitter[msg.sender], "not a submitter"
    assert root != empty(bytes32), "empty root"
    assert leafCount > 0, "no leaves"
    assert self.anchoredAt[root] == 0, "root already anchored"
    self.anchoredAt[root] = block.number
    log Anchored(root=root, submitter=msg.sender, leafCount=leafCount,
                 manifestHash=manifestHash)


@external
def register(fingerprints: DynArray[bytes32, MAX_FINGERPRINTS], claim: bytes32):
    """
    @notice Register financing fingerprints under a claim; reverts, registering none, if
            any one is already registered (by anyone) or repeated in the list.
    @param claim Who registers: a hash of the registering instance and its financing.
           Two instances sharing one key tell their registrations apart by it.
    """
    assert self.isSubmitter[msg.sender], "not a submitter"
    assert len(fingerprints) > 0, "no fingerprints"
    assert claim != empty(bytes32), "empty claim"
    for fp: bytes32 in fingerprints:
        assert fp != empty(bytes32), "empty fingerprint"
        assert self.registrantOf[fp] == empty(address), "fingerprint already registered"
        self.registrantOf[fp] = msg.sender
        self.claimOf[fp] = claim
        log Registered(fingerprint=fp, registrant=msg.sender, claim=claim)


@external
def addSubmitter(account: address):
    assert msg.sender == self.owner, "not the owner"
    assert account != empty(address), "empty account"
    self.isSubmitter[account] = True
    log SubmitterAdded(account=account)


@external
def removeSubmitter(account: address):
    assert msg.sender == self.owner, "not the owner"
    self.isSubmitter[account] = False
    log SubmitterRemoved(account=account)
