// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Biatec Tokens mintable ERC-20 (standard slug `erc20-mintable`)
/// @notice Capped ERC-20 whose owner may mint up to the cap and pause transfers;
///         any holder may burn their own tokens.
/// @dev The deployer is usually the platform's per-user key, so the owner is an explicit
///      constructor argument rather than `msg.sender`: the deployment transaction can then
///      hand ownership to another address without a second `transferOwnership` transaction.
contract BiatecTokenMintable is ERC20, ERC20Burnable, ERC20Capped, ERC20Pausable, Ownable {
    /// @dev Stored because OpenZeppelin 5 hard-codes 18 decimals; tokens here choose their own.
    uint8 private immutable _decimals;

    /// @param name_ Token name (ERC-20 `name`).
    /// @param symbol_ Token symbol (ERC-20 `symbol`).
    /// @param decimals_ Number of decimals reported by `decimals()`.
    /// @param initialSupply Base units minted to `receiver` at construction (may be 0).
    /// @param receiver Holder of the initial supply.
    /// @param cap_ Maximum total supply ever (must be > 0 and >= initialSupply).
    /// @param owner_ Address allowed to mint, pause and unpause.
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
        if (initialSupply > 0) {
            _mint(receiver, initialSupply);
        }
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Mint `amount` base units to `to`; reverts with `ERC20ExceededCap` past the cap.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Stop all transfers, mints and burns until `unpause`.
    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Resume transfers, mints and burns.
    function unpause() external onlyOwner {
        _unpause();
    }

    /// @dev Both ERC20Capped and ERC20Pausable override `_update`; Solidity requires the
    ///      explicit merge. The call chain enforces the pause check and the cap check.
    function _update(address from, address to, uint256 value)
        internal
        override(ERC20, ERC20Capped, ERC20Pausable)
    {
        super._update(from, to, value);
    }
}
