// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/// @title Biatec Tokens preminted ERC-20 (standard slug `erc20-preminted`)
/// @notice Fixed-supply ERC-20: the whole supply goes to the receiver at construction and
///         no function can ever mint more. Holders may burn their own tokens.
/// @dev There is deliberately no owner and no admin function, so the supply promise
///      ("never more than totalSupply") holds without trusting anybody.
contract BiatecTokenPreminted is ERC20, ERC20Burnable {
    /// @dev Stored because OpenZeppelin 5 hard-codes 18 decimals; tokens here choose their own.
    uint8 private immutable _decimals;

    /// @param name_ Token name (ERC-20 `name`).
    /// @param symbol_ Token symbol (ERC-20 `symbol`).
    /// @param decimals_ Number of decimals reported by `decimals()`.
    /// @param totalSupply_ Base units minted once to `receiver`.
    /// @param receiver Holder of the whole supply.
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        uint256 totalSupply_,
        address receiver
    ) ERC20(name_, symbol_) {
        _decimals = decimals_;
        _mint(receiver, totalSupply_);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
