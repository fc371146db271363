// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title Biatec Tokens security token (standard slug `erc20-security`)
/// @notice Capped ERC-20 in the style of ERC-3643 (T-REX): only eligible addresses may hold and
///         move it, agents may freeze whole addresses or part of a balance, force transfers,
///         recover a lost wallet and pause holder transfers.
/// @dev Differences from T-REX, on purpose (docs/decisions/0017-erc20-security-contract.md):
///      - The eligibility registry is a mapping inside the token (`isEligible`), written by agents
///        from the platform's allow list, instead of a separate IdentityRegistry of ONCHAINID
///        identities with claims and a Compliance contract with modules. KYC, jurisdiction and
///        holder-limit rules are evaluated off chain; the chain enforces their result.
///      - Both sender and recipient of a holder transfer must be eligible (T-REX checks only the
///        recipient), so a revoked investor cannot sell outside the issuer's control.
///      - Errors are named custom errors, and `detectTransferRestriction` (ERC-1404 shape) says
///        which one a transfer would hit.
///      As in T-REX, a pause stops holder transfers only; agent operations (mint, burn, forced
///      transfer, recovery) still work so an issuer can correct positions during a pause.
///      Constructor arguments are those of BiatecTokenMintable, so the deployment code is shared.
contract BiatecTokenSecurity is ERC20, ERC20Capped, Pausable, Ownable {
    // --- restriction codes of `detectTransferRestriction` ---------------------------------------
    uint8 public constant TRANSFER_OK = 0;
    uint8 public constant TRANSFER_PAUSED = 1;
    uint8 public constant SENDER_FROZEN = 2;
    uint8 public constant RECIPIENT_FROZEN = 3;
    uint8 public constant SENDER_NOT_ELIGIBLE = 4;
    uint8 public constant RECIPIENT_NOT_ELIGIBLE = 5;
    uint8 public constant INSUFFICIENT_BALANCE = 6;
    uint8 public constant INSUFFICIENT_UNFROZEN_BALANCE = 7;

    // --- events (names and shapes of ERC-3643 where it has one) ---------------------------------
    event AgentAdded(address indexed agent);
    event AgentRemoved(address indexed agent);
    /// @notice `account`'s eligibility was set by `agent` (emitted on every write, changed or not).
    event EligibilitySet(address indexed account, bool indexed eligible, address indexed agent);
    event AddressFrozen(address indexed userAddress, bool indexed isFrozen, address indexed owner);
    event TokensFrozen(address indexed userAddress, uint256 amount);
    event TokensUnfrozen(address indexed userAddress, uint256 amount);
    /// @dev T-REX's third field is the investor's ONCHAINID; here it is the agent who recovered.
    event RecoverySuccess(address indexed lostWallet, address indexed newWallet, address indexed agent);

    // --- errors ---------------------------------------------------------------------------------
    error CallerNotAgent(address caller);
    error AgentAlreadyAdded(address agent);
    error AgentNotFound(address agent);
    error ZeroAddress();
    error ArrayLengthMismatch(uint256 first, uint256 second);
    error SenderNotEligible(address sender);
    error RecipientNotEligible(address recipient);
    error SenderFrozen(address sender);
    error RecipientFrozen(address recipient);
    error InsufficientUnfrozenBalance(address sender, uint256 unfrozen, uint256 needed);
    error FreezeExceedsBalance(address account, uint256 balance, uint256 frozenAfter);
    error UnfreezeExceedsFrozen(address account, uint256 frozen, uint256 amount);
    error SameWallet(address wallet);
    error NothingToRecover(address lostWallet);

    /// @dev Stored because OpenZeppelin 5 hard-codes 18 decimals; tokens here choose their own.
    uint8 private immutable _decimals;

    mapping(address account => bool) private _agents;
    mapping(address account => bool) private _eligible;
    mapping(address account => bool) private _frozen;
    mapping(address account => uint256) private _frozenTokens;

    /// @dev Set for the duration of an agent's forced move (forcedTransfer, recoveryAddress) so
    ///      that `_update` skips the holder-transfer rules; transient storage, cleared per tx.
    bool private transient _agentMove;

    modifier onlyAgent() {
        if (!_agents[msg.sender]) revert CallerNotAgent(msg.sender);
        _;
    }

    /// @param name_ Token name (ERC-20 `name`).
    /// @param symbol_ Token symbol (ERC-20 `symbol`).
    /// @param decimals_ Number of decimals reported by `decimals()`.
    /// @param initialSupply Base units minted to `receiver` at construction (may be 0).
    /// @param receiver Holder of the initial supply; made eligible.
    /// @param cap_ Maximum total supply ever (must be > 0 and >= initialSupply).
    /// @param owner_ Owner (adds and removes agents); an agent while it owns the token, and eligible.
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        uint256 initialSupply,
        address receiver,
        uint256 cap_,
        address owner_
    ) ERC20(name_, symbol_) ERC20Capped(cap_) Ownable(owner_) {
        _decimals = decimals_;
        _setEligible(owner_, true, owner_); // the owner is an agent through `_transferOwnership`
        if (receiver != owner_) {
            _setEligible(receiver, true, owner_);
        }
        if (initialSupply > 0) {
            _mint(receiver, initialSupply);
        }
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    // --- agents (ERC-3643 AgentRole: the owner adds and removes them) ---------------------------

    function isAgent(address account) external view returns (bool) {
        return _agents[account];
    }

    /// @dev Ownership carries the owner's agent role: a new owner becomes an agent, the previous one
    /// stops being one, so handing a token over leaves the old owner unable to mint, freeze or force
    /// transfers. Agents the owner added stay. Runs for the constructor's owner too.
    function _transferOwnership(address newOwner) internal override {
        address previous = owner();
        super._transferOwnership(newOwner);
        if (previous != address(0) && previous != newOwner && _agents[previous]) {
            _agents[previous] = false;
            emit AgentRemoved(previous);
        }
        if (newOwner != address(0) && !_agents[newOwner]) {
            _agents[newOwner] = true;
            emit AgentAdded(newOwner);
        }
    }

    function addAgent(address agent) external onlyOwner {
        if (agent == address(0)) revert ZeroAddress();
        if (_agents[agent]) revert AgentAlreadyAdded(agent);
        _agents[agent] = true;
        emit AgentAdded(agent);
    }

    function removeAgent(address agent) external onlyOwner {
        if (!_agents[agent]) revert AgentNotFound(agent);
        _agents[agent] = false;
        emit AgentRemoved(agent);
    }

    // --- eligibility registry ---------------------------------------------------------------------

    function isEligible(address account) external view returns (bool) {
        return _eligible[account];
    }

    function setEligible(address account, bool eligible) external onlyAgent {
        _setEligible(account, eligible, msg.sender);
    }

    function batchSetEligible(address[] calldata accounts, bool[] calldata eligible) external onlyAgent {
        _sameLength(accounts.length, eligible.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            _setEligible(accounts[i], eligible[i], msg.sender);
        }
    }

    function batchAddEligible(address[] calldata accounts) external onlyAgent {
        for (uint256 i = 0; i < accounts.length; ++i) {
            _setEligible(accounts[i], true, msg.sender);
        }
    }

    function batchRemoveEligible(address[] calldata accounts) external onlyAgent {
        for (uint256 i = 0; i < accounts.length; ++i) {
            _setEligible(accounts[i], false, msg.sender);
        }
    }

    // --- freezing -----------------------------------------------------------------------------------

    function isFrozen(address account) external view returns (bool) {
        return _frozen[account];
    }

    function getFrozenTokens(address account) external view returns (uint256) {
        return _frozenTokens[account];
    }

    function setAddressFrozen(address account, bool freeze) public onlyAgent {
        _frozen[account] = freeze;
        emit AddressFrozen(account, freeze, msg.sender);
    }

    function batchSetAddressFrozen(address[] calldata accounts, bool[] calldata freeze) external onlyAgent {
        _sameLength(accounts.length, freeze.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            setAddressFrozen(accounts[i], freeze[i]);
        }
    }

    /// @notice Freeze `amount` more of `account`'s balance; the total frozen may not exceed it.
    function freezePartialTokens(address account, uint256 amount) public onlyAgent {
        uint256 frozenAfter = _frozenTokens[account] + amount;
        uint256 balance = balanceOf(account);
        if (frozenAfter > balance) revert FreezeExceedsBalance(account, balance, frozenAfter);
        _frozenTokens[account] = frozenAfter;
        emit TokensFrozen(account, amount);
    }

    function unfreezePartialTokens(address account, uint256 amount) public onlyAgent {
        uint256 frozen = _frozenTokens[account];
        if (amount > frozen) revert UnfreezeExceedsFrozen(account, frozen, amount);
        _frozenTokens[account] = frozen - amount;
        emit TokensUnfrozen(account, amount);
    }

    function batchFreezePartialTokens(address[] calldata accounts, uint256[] calldata amounts) external onlyAgent {
        _sameLength(accounts.length, amounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            freezePartialTokens(accounts[i], amounts[i]);
        }
    }

    function batchUnfreezePartialTokens(address[] calldata accounts, uint256[] calldata amounts) external onlyAgent {
        _sameLength(accounts.length, amounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            unfreezePartialTokens(accounts[i], amounts[i]);
        }
    }

    // --- pause (holder transfers only) ----------------------------------------------------------

    function pause() external onlyAgent {
        _pause();
    }

    function unpause() external onlyAgent {
        _unpause();
    }

    // --- supply ---------------------------------------------------------------------------------

    /// @notice Mint to an eligible address; reverts with `ERC20ExceededCap` past the cap.
    function mint(address to, uint256 amount) public onlyAgent {
        _mint(to, amount);
    }

    /// @notice Burn from any holder (redemption); frozen tokens are unfrozen first as needed.
    function burn(address account, uint256 amount) public onlyAgent {
        _unfreezeShortfall(account, amount);
        _burn(account, amount);
    }

    function batchMint(address[] calldata to, uint256[] calldata amounts) external onlyAgent {
        _sameLength(to.length, amounts.length);
        for (uint256 i = 0; i < to.length; ++i) {
            mint(to[i], amounts[i]);
        }
    }

    function batchBurn(address[] calldata accounts, uint256[] calldata amounts) external onlyAgent {
        _sameLength(accounts.length, amounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            burn(accounts[i], amounts[i]);
        }
    }

    // --- transfers ------------------------------------------------------------------------------

    /// @notice Send to several recipients from the caller's balance, each under the holder rules.
    function batchTransfer(address[] calldata to, uint256[] calldata amounts) external {
        _sameLength(to.length, amounts.length);
        for (uint256 i = 0; i < to.length; ++i) {
            _transfer(msg.sender, to[i], amounts[i]);
        }
    }

    /// @notice Agent move ignoring pause and freezes (frozen tokens are unfrozen as needed), to an
    ///         eligible recipient only.
    function forcedTransfer(address from, address to, uint256 amount) public onlyAgent returns (bool) {
        if (!_eligible[to]) revert RecipientNotEligible(to);
        _unfreezeShortfall(from, amount);
        _agentMove = true;
        _transfer(from, to, amount);
        _agentMove = false;
        return true;
    }

    function batchForcedTransfer(address[] calldata from, address[] calldata to, uint256[] calldata amounts)
        external
        onlyAgent
    {
        _sameLength(from.length, to.length);
        _sameLength(from.length, amounts.length);
        for (uint256 i = 0; i < from.length; ++i) {
            forcedTransfer(from[i], to[i], amounts[i]);
        }
    }

    /// @notice Move a lost wallet's whole position to `newWallet`: balance, frozen tokens, the
    ///         address freeze and the eligibility (the lost wallet is no longer eligible).
    /// @dev One of the two wallets must be eligible (T-REX: one must be in the identity registry).
    function recoveryAddress(address lostWallet, address newWallet) external onlyAgent returns (bool) {
        if (newWallet == address(0)) revert ZeroAddress();
        if (newWallet == lostWallet) revert SameWallet(lostWallet);
        uint256 balance = balanceOf(lostWallet);
        if (balance == 0) revert NothingToRecover(lostWallet);
        if (!_eligible[lostWallet] && !_eligible[newWallet]) revert RecipientNotEligible(newWallet);

        uint256 frozenTokens = _frozenTokens[lostWallet];
        _setEligible(newWallet, true, msg.sender);
        _agentMove = true;
        _transfer(lostWallet, newWallet, balance);
        _agentMove = false;
        if (frozenTokens > 0) {
            _frozenTokens[lostWallet] = 0;
            emit TokensUnfrozen(lostWallet, frozenTokens);
            _frozenTokens[newWallet] += frozenTokens;
            emit TokensFrozen(newWallet, frozenTokens);
        }
        if (_frozen[lostWallet]) {
            _frozen[newWallet] = true;
            emit AddressFrozen(newWallet, true, msg.sender);
        }
        _setEligible(lostWallet, false, msg.sender);
        emit RecoverySuccess(lostWallet, newWallet, msg.sender);
        return true;
    }

    // --- pre-checks -----------------------------------------------------------------------------

    /// @notice Whether a holder transfer of `amount` from `from` to `to` would succeed now.
    function canTransfer(address from, address to, uint256 amount) external view returns (bool) {
        return _restriction(from, to, amount) == TRANSFER_OK;
    }

    /// @notice ERC-1404: the first rule a holder transfer would break (0 when none), in the order
    ///         the transfer itself checks them.
    function detectTransferRestriction(address from, address to, uint256 amount) external view returns (uint8) {
        return _restriction(from, to, amount);
    }

    /// @notice ERC-1404: a readable name of a restriction code.
    function messageForTransferRestriction(uint8 code) external pure returns (string memory) {
        if (code == TRANSFER_OK) return "OK";
        if (code == TRANSFER_PAUSED) return "Transfers are paused";
        if (code == SENDER_FROZEN) return "Sender address is frozen";
        if (code == RECIPIENT_FROZEN) return "Recipient address is frozen";
        if (code == SENDER_NOT_ELIGIBLE) return "Sender is not eligible";
        if (code == RECIPIENT_NOT_ELIGIBLE) return "Recipient is not eligible";
        if (code == INSUFFICIENT_BALANCE) return "Insufficient balance";
        if (code == INSUFFICIENT_UNFROZEN_BALANCE) return "Insufficient unfrozen balance";
        return "Unknown restriction";
    }

    // --- internals ------------------------------------------------------------------------------

    function _restriction(address from, address to, uint256 amount) private view returns (uint8) {
        if (paused()) return TRANSFER_PAUSED;
        if (_frozen[from]) return SENDER_FROZEN;
        if (_frozen[to]) return RECIPIENT_FROZEN;
        if (!_eligible[from]) return SENDER_NOT_ELIGIBLE;
        if (!_eligible[to]) return RECIPIENT_NOT_ELIGIBLE;
        uint256 balance = balanceOf(from);
        if (amount > balance) return INSUFFICIENT_BALANCE;
        if (amount > balance - _frozenTokens[from]) return INSUFFICIENT_UNFROZEN_BALANCE;
        return TRANSFER_OK;
    }

    function _setEligible(address account, bool eligible, address agent) private {
        if (account == address(0)) revert ZeroAddress();
        _eligible[account] = eligible;
        emit EligibilitySet(account, eligible, agent);
    }

    /// @dev Unfreeze just enough of `account`'s frozen tokens for `amount` to leave its balance.
    function _unfreezeShortfall(address account, uint256 amount) private {
        uint256 balance = balanceOf(account);
        uint256 free = balance - _frozenTokens[account];
        if (amount > free && amount <= balance) {
            uint256 shortfall = amount - free;
            _frozenTokens[account] -= shortfall;
            emit TokensUnfrozen(account, shortfall);
        }
    }

    function _sameLength(uint256 first, uint256 second) private pure {
        if (first != second) revert ArrayLengthMismatch(first, second);
    }

    /// @dev Holder transfers (transfer, transferFrom, batchTransfer) obey pause, freezes,
    ///      eligibility of both sides and the unfrozen balance; mints need an eligible recipient;
    ///      burns and agent moves skip the holder rules. A balance too small for `value` is left
    ///      to ERC20 (`ERC20InsufficientBalance`); the cap to ERC20Capped.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        if (from == address(0)) {
            if (!_eligible[to]) revert RecipientNotEligible(to);
        } else if (to != address(0) && !_agentMove) {
            _requireNotPaused();
            if (_frozen[from]) revert SenderFrozen(from);
            if (_frozen[to]) revert RecipientFrozen(to);
            if (!_eligible[from]) revert SenderNotEligible(from);
            if (!_eligible[to]) revert RecipientNotEligible(to);
            uint256 balance = balanceOf(from);
            uint256 unfrozen = balance - _frozenTokens[from];
            if (value > unfrozen && value <= balance) revert InsufficientUnfrozenBalance(from, unfrozen, value);
        }
        super._update(from, to, value);
    }
}
